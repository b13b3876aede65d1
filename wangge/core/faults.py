"""Clean answers to faults of the machine rather than of the request: the database busy (SQLite's
writer lock not free in time, "database is locked") → 503 with Retry-After; the file store full or
read-only (OSError on a write) → 503; anything else unhandled → 500. The JSON API always answers
JSON (never Django's HTML page): install(api) adds its handler; server_error is the project's
handler500, for pages and for faults outside the API's views (middleware)."""

import errno
import logging
import sys

from django.conf import settings
from django.db.utils import OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO, errno.EFBIG}


def is_busy(exc: BaseException | None) -> bool:
    """The database could not take a write in time (the writer lock's timeout, or SQLite's own)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc).lower()


def is_storage_fault(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def classify(exc: BaseException | None) -> tuple[int, str]:
    """(status, message for the user) of an unhandled exception."""
    if is_busy(exc):
        return 503, _("The system is busy; please try again in a few seconds.")
    if is_storage_fault(exc):
        return 503, _("The file store is unavailable (full or read-only); please try again later.")
    return 500, _("Internal server error; the error has been logged.")


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def answer(request, exc: BaseException | None) -> HttpResponse:
    status, message = classify(exc)
    if wants_json(request):
        response = JsonResponse({"detail": message}, status=status)
    else:
        from wangge.web.errors import server_error as page  # the site's page, from a minimal context

        response = page(request, status, message)
    if status == 503:
        response["Retry-After"] = str(settings.WANGGE_RETRY_AFTER_SECONDS)
    return response


def server_error(request, *args, **kwargs):
    """handler500: Django calls it while handling the exception, so sys.exc_info() holds it."""
    return answer(request, sys.exc_info()[1])


def install(api) -> None:
    """The API's handler of last resort: every exception no other handler took (ninja's own for
    Exception re-raises it outside DEBUG, and Django then answers with its HTML page)."""

    def unhandled(request, exc):
        status, _message = classify(exc)
        if status == 500:
            logger.error("Unhandled exception in the API: %s %s", request.method, request.path, exc_info=exc)
        else:
            logger.warning("%s %s: %s", request.method, request.path, exc)
        return answer(request, exc)

    api.add_exception_handler(Exception, unhandled)
