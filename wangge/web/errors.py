"""The site's error pages (400, 403, 404, 500/503, a failed CSRF check): in the site's layout and
language, saying what happened in plain words, with the way back (the page the user came from, when
it is on this site, and the home page). Anything under /api/ (or asking for JSON) gets JSON instead.

The 500 page relies on nothing that may be what failed: no database (no context processors, so no
user, menu or bell), a template rendered from a plain dict; if even that fails, plain text."""

import logging

from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wangge.core import faults
from wangge.core.safeurl import safe_referer

logger = logging.getLogger(__name__)
TEMPLATE = "web/errors/error.html"


def _json(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _page(request, status: int, title: str, message: str, advice: str = "", reason: str = "") -> HttpResponse:
    """The page with the full context (the menu of a signed-in user); if that fails, the minimal one."""
    back = safe_referer(request)
    context = {"status": status, "title": title, "message": message, "advice": advice, "reason": reason, "back": back}
    try:
        return HttpResponse(loader.render_to_string(TEMPLATE, context, request), status=status)
    except Exception:
        logger.exception("The %s page could not be rendered with the full context", status)
        return minimal_page(request, status, title, message, advice)


def minimal_page(request, status: int, title: str, message: str, advice: str = "") -> HttpResponse:
    """The page from a plain dict (no context processors, so no query); plain text if that fails."""
    back = safe_referer(request)
    try:
        context = {"status": status, "title": title, "message": message, "advice": advice, "back": back}
        return HttpResponse(loader.get_template(TEMPLATE).render(context), status=status)
    except Exception:
        logger.exception("The %s page could not be rendered; answering in plain text", status)
        text = "\n\n".join(part for part in (title, message, advice, back or "", "/") if part)
        return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def bad_request(request, exception=None):
    if faults.wants_json(request):
        return _json(400, "bad request")
    return _page(
        request,
        400,
        _("The request could not be understood"),
        _("The address or the form sent to the server is not valid, so nothing was done."),
        _("Check the address, or go back and try again."),
    )


def permission_denied(request, exception=None):
    if faults.wants_json(request):
        return _json(403, "not your role")
    return _page(
        request,
        403,
        _("You may not open this page"),
        _("Your account does not have the right to see this page or to do this action."),
        _("If your work needs it, ask your system administrator to give your account the right role."),
        # The pages' own reasons are translated sentences ("Only administrators edit evaluation schemes.").
        reason=str(exception or ""),
    )


def page_not_found(request, exception=None):
    if faults.wants_json(request):
        return _json(404, "not found")
    return _page(
        request,
        404,
        _("Page not found"),
        _("There is no such page. The address may be mistyped, or the record was deleted."),
        _("Records outside your jurisdiction are not shown either; if someone sent you this link, ask them."),
    )


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW. Also called by ninja's own CSRF check for session-authenticated
    API calls (which answers its own JSON 403): cheap there."""
    if faults.wants_json(request):
        return _json(403, "CSRF check failed")
    return _page(
        request,
        403,
        pgettext("error page", "The form has expired"),
        _("For your security the form could not be accepted: it was open for too long, or you "
          "logged out or in meanwhile, or your browser blocks cookies."),
        _("Go back to the page, reload it and send the form again. What you typed may need typing again."),
    )  # fmt: skip


def server_error(request, status: int, message: str) -> HttpResponse:
    """The 500 or 503 page for faults.answer (handler500): the minimal context only."""
    if status == 503:
        title = _("Service unavailable")
        advice = _("Nothing was changed: go back and try again in a minute.")
    else:
        title = _("Server error")
        advice = _("What you were doing may not have been saved. Go back and check, then try again.")
    return minimal_page(request, status, title, message, advice)
