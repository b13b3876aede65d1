"""The command center's API: the map viewport, the dashboard figures, recurring spots.
The same reads as the pages (queries.py, figures.py), the same jurisdiction."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from ninja import Router

from wangge.cases.models import Status
from wangge.core.apitypes import errors

from . import access, figures, queries

router = Router(tags=["command center"])
STATUS_CHOICES = {"open", "all", *Status.values}


@router.get("/cases", response={200: dict, **errors(400, 403, 404)})
def map_cases(
    request,
    bbox: str,
    status: str = "open",
    category: str = "",
    overdue: bool | None = None,
    days: int | None = None,
    area: str = "",
):
    """Cases in a map viewport (bbox=west,south,east,north, WGS-84): every point when there are at
    most 1,500, otherwise counts per cell of a grid over the viewport (kind "cells")."""
    from django.core.exceptions import ValidationError

    if status not in STATUS_CHOICES:
        raise ValidationError({"status": f"one of {', '.join(sorted(STATUS_CHOICES))}"})
    if days is not None and not 1 <= days <= 3660:
        raise ValidationError({"days": "between 1 and 3660"})
    since = timezone.now() - timedelta(days=days) if days else None
    chosen = access.area_for(request.user, area) if area else None
    return queries.viewport(
        request.user, bbox, status=status, category=category, overdue=overdue, since=since, area=chosen
    )


def _area(request, code):
    try:
        return access.area_for(request.user, code)
    except PermissionDenied:
        from ninja.errors import HttpError

        raise HttpError(403, "the command center is for dispatchers and leaders") from None


@router.get("/figures", response={200: dict, **errors(403, 404)})
def dashboard_figures(request, area: str = "", period: str = "month", start: str = "", end: str = ""):
    """The dashboard of an area of the user's jurisdiction for a period (today, week, month, 30d,
    year, or start/end dates): summary, channels, top categories, daily, areas, departments,
    overdue cases; each item with the URL of the cases behind it."""
    chosen = _area(request, area)
    return figures.dashboard(chosen, figures.period_from(period, start, end))


@router.get("/spots", response={200: dict, **errors(403, 404)})
def spots(request, area: str = ""):
    """Recurring spots: at least WANGGE_SPOT_MIN_CASES cases of one category within
    WANGGE_SPOT_RADIUS_M metres in the last WANGGE_SPOT_DAYS days. Each names its `category_key`
    (what POST /api/v1/proactive takes) and the proactive `work` it was turned into (id, or null)
    with that work's `effect`."""
    from django.conf import settings

    from wangge.proactive import queries as proactive_queries

    chosen = _area(request, area)
    found = queries.recurring_spots(request.user, chosen)
    proactive_queries.annotate_spots(found, settings.INSIGHT_SPOT_RADIUS_M)
    return {
        "spots": [
            {
                **s,
                "first": s["first"].isoformat(),
                "last": s["last"].isoformat(),
                "work": s["work"].pk if s["work"] else None,
            }
            for s in found
        ]
    }


@router.get("/heat", response={200: dict, **errors(400, 403, 404)})
def heat(
    request,
    area: str = "",
    period: str = "month",
    start: str = "",
    end: str = "",
    category: str = "",
    cell: int = queries.HEAT_CELL_M,
):
    """The heat map of cases reported in a period (today, week, month, 30d, year, or start/end
    dates), of one category (kind:code, a major class takes its minor classes) or all: counts per
    bin of about `cell` metres (50–5,000), as [lat, lng, count] at the bin's centre (WGS-84), from
    the cases of the user's jurisdiction under `area` only."""
    chosen = _area(request, area)
    return queries.heat(request.user, chosen, figures.period_from(period, start, end), category=category, cell_m=cell)


def _board_case(c) -> dict:
    suggested = queries.suggested_department(c)
    return {
        "id": c.pk,
        "number": c.number,
        "status": c.status,
        "overdue": c.is_overdue,
        "due_soon": c.due_soon,
        "next_deadline": c.next_deadline.isoformat() if c.next_deadline else None,
        "category": c.category.name if c.category_id else "",
        "area": c.area.name,
        "level": c.command_level,
        "suggested_department": suggested.code if suggested else None,
        "duplicate_of": c.duplicate_of_id if c.duplicate_of_id and c.duplicate_of.is_open else None,
        "return_waiting": c.return_waiting,
    }


@router.get("/board", response={200: dict, **errors(403, 404)})
def dispatch_board(request, area: str = "", limit: int = 60):
    """The dispatch board of an area: counts per open state, overdue and due soon, and the open
    cases, the overdue first, then the nearest deadline. `duplicate_of`: the open case this one is
    flagged as a likely duplicate of (merge it with POST /api/v1/cases/{id}/transitions, action
    "merge", into that id); `return_waiting`: a department returned it and the return waits for
    the dispatcher's decision (`returns_to_decide` counts those cases; GET /board/{id} lists them)."""
    chosen = _area(request, area)
    board = queries.board(request.user, chosen, limit=max(1, min(limit, 500)))
    return {
        "area": chosen.code,
        "states": [{"status": s, "label": str(label), "n": n} for s, label, n in board["states"]],
        "open": board["open"],
        "overdue": board["overdue"],
        "due_soon": board["due_soon"],
        "returns_to_decide": board["returns_to_decide"],
        "cases": [_board_case(c) for c in board["cases"]],
    }


@router.get("/board/{int:case_id}", response={200: dict, **errors(404)})
def board_case(request, case_id: int):
    """What the dispatcher needs to act on one case: the matter item's default department, the
    nearest on-duty field workers (metres from their last position), the open case it likely
    duplicates, the returns waiting for a decision, and the actions allowed now. Act through
    POST /api/v1/cases/{id}/transitions (dispatch with departments, escalate, merge with into,
    decide_return with assignment, approve and — to overrule — a note)."""
    from django.shortcuts import get_object_or_404

    from wangge.cases import actions
    from wangge.cases import queries as case_queries

    if not access.is_commander(request.user):
        raise Http404
    case = get_object_or_404(case_queries.case_list(request.user), pk=case_id)
    suggested = queries.suggested_department(case)
    duplicate = queries.open_duplicate(request.user, case)
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "version": case.version,
        "suggested_department": {"code": suggested.code, "name": suggested.name} if suggested else None,
        "nearest_workers": [{**w, "at": w["at"].isoformat()} for w in queries.nearest_workers(request.user, case)],
        "duplicate_of": {"id": duplicate.pk, "number": duplicate.number, "status": duplicate.status}
        if duplicate
        else None,
        "returns_to_decide": [
            {
                "assignment": a.pk,
                "department": a.department.code,
                "department_name": a.department.name,
                "reason": a.return_reason,
            }
            for a in queries.waiting_returns(case).select_related("department")
        ],
        "allowed_actions": sorted(t.action for t in actions.allowed_actions(request.user, case)),
    }
