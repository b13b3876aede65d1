"""Case pages: dispatcher queue, department queue, case page with its actions (htmx), staff intake,
and the citizen's side (report without an account, follow with the tracking number, rate)."""

import dataclasses
import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from wangge.accounts.models import Department
from wangge.areas.models import Area, Level
from wangge.core import ratelimit

from . import actions, channels, nextstep, public_map, queries, roles
from .forms import EvaluateForm, ReportForm, StaffCaseForm, TrackForm, category_choices
from .models import ACTIVE_ASSIGNMENT, OPEN_STATUSES, Case, CasePhoto, Channel, MatterItem, Severity, Status
from .photos import store_photo_or_none

STATUS_TABS = [
    "open",
    "all",
    Status.REPORTED,
    Status.REGISTERED,
    Status.HANDLING,
    Status.VERIFYING,
    Status.CLOSED,
    Status.REJECTED,
    Status.MERGED,
]


@login_required
def queue(request):
    """The command center's queue of the user's jurisdiction, with counts per tab."""
    visible = queries.case_list(request.user)
    params = {f: request.GET.get(f, "") for f in queries.QUEUE_FILTERS}
    params["status"] = params["status"] or "open"
    filtered_without_status = queries.filter_cases(visible, **queries.filter_args(request.user, request.GET))
    counts = queries.status_counts(filtered_without_status)
    cases = queries.filter_cases(filtered_without_status, status=params["status"])
    if params["status"] == "open":  # the work still to do: overdue first, then by dispatch deadline
        cases = cases.order_by("-is_overdue", "dispatch_deadline", "-created_at")
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("status", None)
    tabs = [(s, _label(s), counts.get(s, 0)) for s in STATUS_TABS]
    return render(
        request,
        "cases/queue.html",
        {
            "page": page,
            "tabs": tabs,
            "params": params,
            "query": query.urlencode(),
            "overdue_count": counts.get("overdue", 0),
            "departments": Department.objects.filter(is_active=True),
            "channels": Channel.choices,
            "categories": category_choices(majors=True),
            "may_file": channels.may_use_staff_form(request.user),
            "may_command": roles.is_dispatcher(request.user),
            "severities": Severity.choices,
        },
    )


def _label(status):
    if status == "all":
        return pgettext("cases", "All")
    if status == "finished":
        return pgettext("cases", "Finished")
    return pgettext("cases", "Open") if status == "open" else Status(status).label


@login_required
def department_queue(request):
    show = request.GET.get("show", "")
    show = show if show in queries.DEPARTMENT_FILTERS else ""
    assignments = queries.filter_assignments(queries.department_queue(request.user), show)
    tabs = [("", pgettext("cases", "All"))] + [(key, DEPARTMENT_TABS[key]) for key in queries.DEPARTMENT_FILTERS]
    return render(request, "cases/department_queue.html", {"assignments": assignments, "show": show, "tabs": tabs})


DEPARTMENT_TABS = {
    "pending": gettext_lazy("To accept"),
    "due_today": gettext_lazy("Due today"),
    "overdue": gettext_lazy("Overdue"),
    "rework": pgettext_lazy("department queue", "Rework"),
}


def _case_context(request, case, error=None, notice=None):
    allowed = actions.allowed_actions(request.user, case)
    assignments = list(case.assignments.select_related("department"))
    # The likely next step first; irreversible actions apart, each behind a confirmation with a reason.
    first = nextstep.primary_action({t.action for t in allowed}, case.status)
    ordered = [(t.action, t) for t in allowed]
    case_map = _case_map(request.user, case)
    item = case.matter_item
    default_departments = {item.department.code} if item and item.department_id else set()
    return {
        "case": case,
        "assignments": assignments,
        "events": case.events.prefetch_related("photos"),
        "photos": case.photos.all(),
        "allowed": {t.action: t for t in allowed},
        "primary": [(n, t) for n, t in ordered if n == first],
        "others": [(n, t) for n, t in ordered if n != first and n not in nextstep.CONFIRMED],
        "irreversible": [(n, t) for n, t in ordered if n in nextstep.CONFIRMED],
        "error": error,
        "notice": notice,
        "departments": roles.dispatchable_departments(case),
        "busy_departments": {a.department.code for a in assignments if a.status in ACTIVE_ASSIGNMENT},
        "returns_to_decide": [a for a in assignments if a.waits_for_return_decision],
        "default_departments": default_departments,
        "severities": Severity.choices,
        "closing_outcomes": [(o.value, o.label) for o in actions.CLOSING_OUTCOMES],
        "matter_items": MatterItem.objects.filter(is_active=True),
        "merged": Case.objects.filter(merged_into=case),
        "point": json.dumps([case.lat, case.lng]) if case.lat is not None else "",
        "case_map": case_map,
        # In an attribute, not a json_script: htmx drops script elements from swapped content.
        "case_map_json": json.dumps(case_map, ensure_ascii=False),
    }


NEARBY_DEGREES = 0.005  # about 500 m: the open cases the case page's map shows around the case


def _case_map(user, case):
    """The case page's map: the point, the grid's boundary (simplified) and this user's open cases nearby."""
    area = case.area
    grid = None
    if area.boundary:
        grid = {
            "name": area.name,
            "label": [area.centroid_lat, area.centroid_lng],
            "geometry": public_map.simplified(area.pk, area.updated_at, area.level),
        }
    nearby = []
    lat, lng = (case.lat, case.lng) if case.lat is not None else (area.centroid_lat, area.centroid_lng)
    if lat is not None:
        around = (
            queries.case_list(user)
            .filter(status__in=OPEN_STATUSES, lat__range=(lat - NEARBY_DEGREES, lat + NEARBY_DEGREES))
            .filter(lng__range=(lng - NEARBY_DEGREES, lng + NEARBY_DEGREES))
            .exclude(pk=case.pk)
            .select_related("category")
            .order_by("-created_at")[:30]
        )
        nearby = [
            {
                "number": c.number,
                "status": str(c.get_status_display()),
                "category": c.category.name if c.category_id else "",
                "lat": c.lat,
                "lng": c.lng,
                "url": reverse("case_detail", args=[c.pk]),
            }
            for c in around
        ]
    point = [case.lat, case.lng] if case.lat is not None else None
    return {"point": point, "grid": grid, "nearby": nearby}


@login_required
def case_detail(request, pk):
    case = get_object_or_404(queries.case_list(request.user), pk=pk)
    return render(request, "cases/detail.html", _case_context(request, case))


# Form fields each action reads from the page (the API takes the same names as JSON).
ACTION_FIELDS = ["note", "reason", "outcome", "category", "matter_item", "severity", "into", "assignment"]


@login_required
@require_POST
def case_act(request, pk):
    """One action from the case page. Answers with the case body again (htmx swaps it in)."""
    case = get_object_or_404(queries.case_list(request.user), pk=pk)
    action = request.POST.get("action", "")
    params = {f: request.POST[f].strip() for f in ACTION_FIELDS if request.POST.get(f, "").strip()}
    status = 200
    try:
        version = int(request.POST.get("version", ""))
        if request.POST.getlist("departments"):
            params["departments"] = request.POST.getlist("departments")
        for number in ("hours", "satisfaction", "rating"):
            if request.POST.get(number):
                params[number] = float(request.POST[number]) if number == "hours" else int(request.POST[number])
        if "approve" in request.POST:
            params["approve"] = request.POST["approve"] == "1"
        if params.get("into"):
            params["into"] = _case_id(request.user, params["into"])
        if request.FILES.getlist("photo"):
            stored = [store_photo_or_none(request, f, user=request.user) for f in request.FILES.getlist("photo")]
            params["photo_ids"] = [photo.pk for photo in stored if photo is not None]
        case = actions.transition(case, request.user, action, version=version, **params)
        error = None
    except actions.TransitionRefused as exc:
        error, status = str(exc), exc.status
    except ValidationError as exc:
        error, status = _field_errors(exc), 400
    except ValueError:
        error, status = _("Check the numbers you entered."), 400
    case.refresh_from_db()
    # What happened and whose move it is, from the case as it is now (not from the button pressed).
    notice = None if error else nextstep.state_summary(case)
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect("case_detail", pk=case.pk)
    return render(request, "cases/_case_body.html", _case_context(request, case, error, notice), status=status)


def _field_labels():
    return {
        "note": pgettext("action field", "Reason"),
        "into": _("Merge into case number"),
        "departments": _("Departments"),
        "hours": pgettext("action field", "Hours"),
        "outcome": _("Outcome"),
        "matter_item": _("Matter item"),
        "category": _("Category"),
        "severity": _("Severity"),
        "photo_ids": _("Photo"),
        "assignment": _("Department"),
        "satisfaction": _("Satisfaction"),
        "rating": pgettext("action field", "Rating"),
    }


def _field_errors(exc):
    """A refused action's errors, each named by the field's label as the form shows it (never a code)."""
    labels = _field_labels()
    parts = []
    for field, errors in exc.message_dict.items():
        label = labels.get(field)
        text = " ".join(errors)
        parts.append(_("%(field)s: %(errors)s") % {"field": label, "errors": text} if label else text)
    return " ".join(parts)


def _case_id(user, value):
    found = queries.case_list(user).filter(number=value).values_list("pk", flat=True).first()
    if found:
        return found
    if value.isdigit():
        return int(value)
    raise ValidationError({"into": _("No case %(n)s.") % {"n": value}})


def _fresh_key():
    """Each form carries its own idempotency key: a double click or a resent POST is one case."""
    return {"idempotency_key": uuid.uuid4().hex}


REPORT_FIELDS = {f.name for f in dataclasses.fields(actions.Report)} - {"channel", "photo_ids"}


def _report_from_form(request, form, channel):
    """Report what a valid form holds (its field names are the Report's); the photo is stored
    first. Errors land on the form: on the field, or above the form for the hidden map point."""
    data = form.cleaned_data
    fields = {k: v for k, v in data.items() if k in REPORT_FIELDS and v not in (None, "")}
    try:
        user = request.user if request.user.is_authenticated else None
        # Checked before the photo is stored: a refused filer leaves no orphan photo behind.
        refused = channels.refusal(user, channel, fields.get("severity", ""))
        if refused:
            raise actions.FilingRefused(refused)
        photo = store_photo_or_none(request, data["photo"], user=request.user) if data.get("photo") else None
        tokens = [photo.token] if photo else []
        report = actions.Report(**fields, channel=channel, photo_tokens=tokens)
        return actions.report_case(report, user)[0]
    except actions.FilingRefused as exc:
        errors = exc.errors
    except actions.IdempotencyConflict as exc:
        errors = {None: str(exc)}
    except ValidationError as exc:
        errors = exc.message_dict
    for field, messages_ in errors.items():
        visible = field in form.fields and not form.fields[field].widget.is_hidden
        form.add_error(field if visible else None, messages_)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    """Staff entry: a hotline operator takes a call, a grid manager or landlord reports; the
    channels and urgency offered are the ones the user's roles may use (cases.channels)."""
    if not channels.may_use_staff_form(request.user):
        raise PermissionDenied(_("Your role does not file cases here."))
    form = StaffCaseForm(request.POST or None, request.FILES or None, user=request.user, initial=_fresh_key())
    if request.method == "POST" and form.is_valid():
        case = _report_from_form(request, form, form.cleaned_data["channel"])
        if case is not None:
            messages.success(request, _("Case %(n)s registered.") % {"n": case.number})
            return redirect("case_detail", pk=case.pk)
    return render(request, "cases/report_page.html", {"form": form, "public": False})


@require_http_methods(["GET", "POST"])
def public_report(request):
    """A citizen's report, no account needed: the answer is a tracking number."""
    if request.user.is_authenticated and request.user.is_personal:  # signed in: the portal's form, theirs
        return redirect("portal:report")
    if request.method == "POST" and (limited := ratelimit.page_limit(request, "public_report")):
        return limited  # 429 in the site's language, with Retry-After
    form = ReportForm(request.POST or None, request.FILES or None, initial=_fresh_key())
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.check_captcha(request)  # a configured human check (none by default)
        except ValidationError as exc:
            form.add_error(None, exc.message_dict[ratelimit.CAPTCHA_FIELD])
        else:
            case = _report_from_form(request, form, channel=Channel.CITIZEN_WEB)
            if case is not None:
                return redirect("public_track", tracking_number=case.tracking_number)
    context = {"form": form, "public": True, "captcha_template": settings.CAPTCHA_TEMPLATE}
    return render(request, "cases/report_page.html", context)


@require_http_methods(["GET", "POST"])
def public_track(request, tracking_number=None):
    """Follow a report by its tracking number; rate it once it is closed."""
    if tracking_number is None:
        form = TrackForm(request.GET or None)
        if form.is_valid():
            return redirect("public_track", tracking_number=form.cleaned_data["tracking_number"].strip().upper())
        return render(request, "cases/public_track.html", {"form": form})
    if limited := ratelimit.page_limit(request, "public_track"):
        return limited  # tracking numbers are not to be guessed by trying
    case = Case.objects.filter(tracking_number=tracking_number.upper()).first()
    if case is None:
        return render(
            request, "cases/public_track.html", {"form": TrackForm(), "not_found": tracking_number}, status=404
        )
    evaluate = EvaluateForm(request.POST or None)
    if request.method == "POST" and (limited := ratelimit.page_limit(request, "public_evaluate")):
        return limited
    if request.method == "POST" and evaluate.is_valid():
        try:
            actions.evaluate_by_tracking_number(
                case.tracking_number, evaluate.cleaned_data["satisfaction"], evaluate.cleaned_data["comment"]
            )
            messages.success(request, _("Thank you for your rating."))
            return redirect("public_track", tracking_number=case.tracking_number)
        except (actions.TransitionNotAllowed, ValidationError) as exc:
            evaluate.add_error(None, exc.messages[0] if hasattr(exc, "messages") else str(exc))
    return render(
        request,
        "cases/public_track.html",
        {"view": queries.public_view(case), "case": case, "evaluate": evaluate},
    )


def city_outline(request):
    """The city and its towns as GeoJSON for the public report map (official divisions: public),
    boundaries simplified for display, with a label point each."""
    features = []
    rows = Area.objects.filter(level__in=[Level.CITY, Level.TOWN], boundary__isnull=False).values_list(
        "pk", "code", "name", "level", "updated_at", "centroid_lat", "centroid_lng"
    )
    for pk, code, name, level, updated_at, lat, lng in rows:
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name, "self": level == Level.CITY, "label": [lat, lng]},
                "geometry": public_map.simplified(pk, updated_at, level),
            }
        )
    answer = JsonResponse({"type": "FeatureCollection", "features": features})
    answer["Cache-Control"] = "public, max-age=300"
    return answer


@login_required
def photo(request, token, thumbnail=False):
    """A case photo, only for users who may see its case (photos are not public media)."""
    found = get_object_or_404(CasePhoto, token=token)
    if found.case_id is None:
        if found.uploaded_by_id != request.user.pk:
            raise Http404
    elif not queries.case_list(request.user).filter(pk=found.case_id).exists():
        raise Http404
    file = found.thumbnail if thumbnail and found.thumbnail else found.image
    return FileResponse(file.open("rb"), content_type="image/jpeg")
