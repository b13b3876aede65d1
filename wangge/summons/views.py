"""Pages of 吹哨报到: the list, the dispatcher's form (for a case or a campaign), a summons' page with
its live board (polled) and the phone's arrival button, closing. Thin: the rules are in actions."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.accounts.models import Department
from wangge.accounts.resolve import resolve_one
from wangge.cases import roles as case_roles
from wangge.cases.actions import TransitionNotAllowed
from wangge.cases.models import Case, Severity

from . import actions, queries
from .models import Arrival, SummonedDepartment

PER_PAGE = 50
TABS = ("open", "mine", "mine_overdue", "overdue", "closed", "all")


@login_required
def summons_list(request):
    if not queries.sees_summonses(request.user):
        raise PermissionDenied(_("Summonses are for dispatchers and the departments they call."))
    show = request.GET.get("show", "open")
    show = show if show in TABS else "open"
    rows = queries.filter_list(queries.visible(request.user), show, request.user, timezone.now())
    page = Paginator(queries.with_counts(rows).order_by("-created_at", "-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "show": show,
        "may_summon": queries.may_summon(request.user),
        "handler": bool(queries.handler_department_ids(request.user)),
    }
    return render(request, "summons/list.html", context)


@login_required
def new(request):
    user = request.user
    if not queries.may_summon(user):
        raise PermissionDenied(_("Only town and village dispatchers summon departments."))
    source = request.POST if request.method == "POST" else request.GET
    case = _case_of(user, source.get("case"))
    errors, status = {}, 200
    if request.method == "POST":
        post = request.POST
        try:
            summons = actions.summon(
                user,
                case=case.pk if case else None,
                departments=post.getlist("departments"),
                lat=post.get("lat"),
                lng=post.get("lng"),
                address=post.get("address", ""),
                reason=post.get("reason", ""),
                minutes=post.get("minutes"),
                severity=post.get("severity") or None,
            )
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        else:
            messages.success(request, _("Departments summoned; their staff are told by SMS and in the app."))
            return redirect("summons:detail", summons.pk)
    severity = case.severity if case else (source.get("severity") or Severity.NORMAL)
    form = request.POST if errors else {}
    initial = {
        "address": form.get("address", case.address if case else ""),
        "lat": form.get("lat", _text(case.lat) if case else ""),
        "lng": form.get("lng", _text(case.lng) if case else ""),
    }
    context = {
        "initial": initial,
        "case": case,
        "errors": errors,
        "form": form,
        "chosen": form.getlist("departments") if errors else [],
        "departments": _departments_for(user, case),
        "severities": Severity.choices,
        "severity": severity,
        "minutes": form.get("minutes") if errors else actions.default_minutes(severity),
        "defaults": [(label, actions.default_minutes(value)) for value, label in Severity.choices],
        "radius": settings.SUMMONS_ARRIVAL_RADIUS_M,
    }
    return render(request, "summons/new.html", context, status=status)


def _text(number) -> str:
    return "" if number is None else repr(float(number))


def _case_of(user, value):
    """The case named in the address or the form, resolved like any id a write names (404 outside)."""
    if value in (None, ""):
        return None
    cases = case_roles.visible_cases(user, Case.objects.select_related("area")).filter(queries.summoning_q(user))
    try:
        return resolve_one(cases, value, "case")
    except ValidationError:
        raise Http404 from None


def _departments_for(user, case):
    if case is not None:
        return list(queries.summonable_departments(case.area_path).order_by("level", "code"))
    paths = queries.summoning_paths(user)
    if "" in paths:
        return list(Department.objects.filter(is_active=True).order_by("level", "code"))
    ids = set()
    for path in paths:
        ids |= set(queries.summonable_departments(path).values_list("pk", flat=True))
    return list(Department.objects.filter(pk__in=ids).order_by("level", "code"))


def _board_context(request, summons):
    user = request.user
    rows = list(
        SummonedDepartment.objects.filter(summons=summons)
        .select_related("summons", "department", "arrived_by")
        .prefetch_related(Prefetch("arrivals", queryset=Arrival.objects.select_related("user").order_by("-at", "-id")))
    )
    mine = queries.handler_department_ids(user)
    return {
        "summons": summons,
        "rows": rows,
        "arrived": sum(1 for r in rows if r.arrived_at),
        "may_report": summons.is_open and any(r.department_id in mine for r in rows),
        "my_rows": [r for r in rows if r.department_id in mine],
        "may_close": summons.is_open
        and (summons.created_by_id == user.pk or queries.may_summon_at(user, summons.area_path)),
        "now": timezone.now(),
    }


@login_required
def detail(request, pk: int):
    summons = get_object_or_404(queries.visible(request.user), pk=pk)  # another area's: 404
    context = _board_context(request, summons)
    context["place_map"] = json.dumps({"point": [summons.lat, summons.lng], "grid": None, "nearby": []})
    context["max_accuracy"] = int(settings.SUMMONS_MAX_ACCURACY_M)
    return render(request, "summons/detail.html", context)


@login_required
def board(request, pk: int):
    """The departments' table alone, polled by the page every few seconds."""
    summons = get_object_or_404(queries.visible(request.user), pk=pk)
    return render(request, "summons/_board.html", _board_context(request, summons))


@login_required
@require_POST
def arrive(request, pk: int):
    summons = get_object_or_404(queries.visible(request.user), pk=pk)
    post = request.POST
    try:
        arrivals = actions.report_arrival(
            request.user, summons, lat=post.get("lat"), lng=post.get("lng"), accuracy=post.get("accuracy")
        )
    except (ValidationError, TransitionNotAllowed) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
        return redirect("summons:detail", summons.pk)
    arrival = arrivals[0]
    if arrival.counts:
        messages.success(request, _("Arrival recorded: late.") if arrival.late else _("Arrival recorded: on time."))
    else:
        messages.warning(request, _("Recorded, but not counted as an arrival: %(why)s") % {"why": _why(arrival)})
    return redirect("summons:detail", summons.pk)


def _why(arrival) -> str:
    if arrival.no_fix:
        return _("the phone gave no location. Allow location and try again on site.")
    if arrival.poor_fix:
        return _("the location is too imprecise. Wait for a better fix in the open and try again.")
    return _("%(d)s m from the place, farther than the %(r)s m allowed.") % {
        "d": round(arrival.distance_m),
        "r": arrival.summoned.summons.radius_m,
    }


@login_required
@require_POST
def close(request, pk: int):
    summons = get_object_or_404(queries.visible(request.user), pk=pk)
    try:
        actions.close_summons(request.user, summons)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Summons closed."))
    return redirect("summons:detail", summons.pk)
