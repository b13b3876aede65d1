"""The desk page and its htmx parts. Thin: parse, call lookup or one action, render."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wangge.cases import actions as case_actions
from wangge.cases import refs
from wangge.core.clientip import client_ip

from . import lookup
from .actions import CONSULTATION, Call, file_call, link_caller, may_take_calls
from .forms import CallForm

CALL_FIELDS = ("description", "kind", "answer", "lat", "lng", "address", "category", "matter_item", "severity")


def _operator(view):
    def wrapped(request, *args, **kwargs):
        if not may_take_calls(request.user):
            raise PermissionDenied(_("Only hotline operators take calls at the hotline desk."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_required(wrapped)


def _render(request, form, duplicates=None, status=200):
    context = {"form": form, "duplicates": duplicates}
    return render(request, "hotline/desk.html", context, status=status)


@_operator
@require_http_methods(["GET", "POST"])
def desk(request):
    """One screen per call: the number (history appears), what and where, save — or link the
    caller to a likely duplicate offered before saving."""
    if request.method == "GET":
        return _render(request, CallForm(user=request.user, initial={"idempotency_key": secrets.token_hex(8)}))
    form = CallForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = form.cleaned_data
    duplicates = None
    if data["kind"] != CONSULTATION and data.get("lat") is not None and not data.get("confirm_new"):
        category = refs.category(*reversed(data["category"].split(":", 1))) if data.get("category") else None
        near = lookup.nearby_open_cases(request.user, data["lat"], data["lng"], category.pk if category else None)
        duplicates = [r for r in near if r["likely_duplicate"] or r["distance"] <= settings.CASE_DUPLICATE_DISTANCE_M]
        if duplicates:
            form.data = form.data.copy()
            form.data["confirm_new"] = "1"  # saving again files it as new
            return _render(request, form, duplicates, status=409)
    call = Call(
        phone=data["reporter_phone"],
        caller_name=data.get("reporter_name") or "",
        idempotency_key=data.get("idempotency_key") or "",
        **{k: data[k] for k in CALL_FIELDS if data.get(k) not in (None, "")},
    )
    try:
        case = file_call(request.user, call)
    except case_actions.FilingRefused as exc:
        errors = exc.errors
    except case_actions.IdempotencyConflict as exc:
        errors = {None: str(exc)}
    except ValidationError as exc:
        errors = exc.message_dict
    else:
        if case.outcome:
            messages.success(request, _("Consultation %(n)s recorded and closed.") % {"n": case.number})
        else:
            messages.success(
                request,
                _("Case %(n)s filed; it waits at the %(l)s command center. Tracking number for the caller: %(t)s.")
                % {"n": case.number, "l": case.command_level_label, "t": case.tracking_number},
            )
        return redirect("hotline:desk")
    for field, reasons in errors.items():
        shown = field if field in form.fields and not form.fields[field].widget.is_hidden else None
        if field == "phone":
            shown = "reporter_phone"
        form.add_error(shown, reasons)
    return _render(request, form, status=400)


@_operator
@require_POST  # the number in the body: never in a URL (access logs, history)
def caller(request):
    """The caller's earlier cases, once the number typed is complete."""
    phone = lookup.complete_number(request.POST.get("reporter_phone", ""))
    history = lookup.caller_history(request.user, phone, ip=client_ip(request)) if phone else None
    return render(request, "hotline/_history.html", {"phone": phone, "history": history})


@_operator
@require_GET
def nearby(request):
    """Open cases near the place picked (the likely duplicates first)."""
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
    except (KeyError, ValueError):
        return render(request, "hotline/_nearby.html", {"nearby": None})
    raw = request.GET.get("category", "")
    category = refs.category(*reversed(raw.split(":", 1))) if ":" in raw else None
    rows = lookup.nearby_open_cases(request.user, lat, lng, category.pk if category else None)
    return render(request, "hotline/_nearby.html", {"nearby": rows})


@_operator
@require_POST
def link(request):
    """Link the caller (number and name from the desk's form) to an existing case."""
    try:
        caller_ = link_caller(
            request.user, request.POST.get("case"), request.POST.get("reporter_phone", ""),
            request.POST.get("reporter_name", ""),
        )  # fmt: skip
    except ValidationError as exc:
        form = CallForm(request.POST, user=request.user)
        form.is_valid()
        for field, reasons in exc.message_dict.items():
            form.add_error("reporter_phone" if field == "phone" else None, reasons)
        return _render(request, form, status=400)
    messages.success(
        request,
        _("The caller now follows case %(n)s and will be told its outcome by SMS.") % {"n": caller_.case.number},
    )
    return redirect("hotline:desk")
