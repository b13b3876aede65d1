"""The command center's API: the map viewport, the dashboard figures, recurring spots.
The same reads as the pages (queries.py, figures.py), the same jurisdiction."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from ninja import Router

from wangge.cases.models import Status

from . import access, figures, queries

router = Router(tags=["command center"])
STATUS_CHOICES = {"open", "all", *Status.values}


@router.get("/cases")
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


@router.get("/figures")
def dashboard_figures(request, area: str = "", period: str = "month", start: str = "", end: str = ""):
    """The dashboard of an area of the user's jurisdiction for a period (today, week, month, 30d,
    year, or start/end dates): summary, channels, top categories, daily, areas, departments,
    overdue cases; each item with the URL of the cases behind it."""
    chosen = _area(request, area)
    return figures.dashboard(chosen, figures.period_from(period, start, end))


@router.get("/spots")
def spots(request, area: str = ""):
    """Recurring spots: at least WANGGE_SPOT_MIN_CASES cases of one category within
    WANGGE_SPOT_RADIUS_M metres in the last WANGGE_SPOT_DAYS days."""
    chosen = _area(request, area)
    found = queries.recurring_spots(request.user, chosen)
    return {"spots": [{**s, "first": s["first"].isoformat(), "last": s["last"].isoformat()} for s in found]}


@router.get("/heat")
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
