"""Reading cases for the command pages: the map's viewport, the dispatch board's queue, recurring
spots. Every query starts from cases.roles.visible_cases, so the jurisdiction is the cases app's."""

import math
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Cast, Coalesce, Floor
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.areas.coords import distance_m
from wangge.areas.models import Level, under
from wangge.cases import roles
from wangge.cases.models import ACTIVE_ASSIGNMENT, OPEN_STATUSES, RETURN_WAITING, Assignment, Case, Channel, Status

QUEUE_STATES = [Status.REPORTED, Status.REGISTERED, Status.HANDLING, Status.VERIFYING]
MAX_POINTS = 1500  # more cases than this in the viewport: cells (server-side clustering)
CELLS_ACROSS = 48


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except (AttributeError, ValueError):
        raise ValidationError({"bbox": _("Give bbox as west,south,east,north in degrees.")}) from None
    if not all(map(math.isfinite, (west, south, east, north))) or west >= east or south >= north:
        raise ValidationError({"bbox": _("Give bbox as west,south,east,north with west < east and south < north.")})
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise ValidationError({"bbox": _("The bbox must lie within -180..180, -90..90.")})
    return west, south, east, north


def filter_map_cases(cases, *, status="open", category="", overdue=None, since=None, area=None):
    if status in ("", "open"):
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        cases = cases.filter(status=status)
    if category:
        kind, _sep, code = category.rpartition(":")
        cases = cases.filter(Q(category__code=code) | Q(category__parent__code=code))
        if kind:
            cases = cases.filter(category__kind=kind)
    if overdue is not None:
        cases = cases.filter(is_overdue=overdue)
    if since is not None:
        cases = cases.filter(created_at__gte=since)
    if area is not None:
        cases = cases.filter(under("area_path", area.path))
    return cases


def viewport(user, bbox: str, *, limit: int = MAX_POINTS, **filters) -> dict:
    """The cases in a map's viewport: every point while there are at most `limit`, otherwise
    counts per cell of a grid laid over the viewport (CELLS_ACROSS cells across)."""
    west, south, east, north = parse_bbox(bbox)
    cases = filter_map_cases(roles.visible_cases(user), **filters).filter(
        lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east
    )
    points = list(
        cases.order_by().values(
            "id", "number", "lat", "lng", "status", "is_overdue", "severity", "category__name", "command_level"
        )[: limit + 1]
    )
    if len(points) <= limit:
        return {"kind": "points", "count": len(points), "points": [_point(p) for p in points]}
    cell = (east - west) / CELLS_ACROSS
    cells = (
        cases.order_by()
        .annotate(
            cx=Cast(F("lng") / cell, IntegerField()),
            cy=Cast(F("lat") / cell, IntegerField()),
        )
        .values("cx", "cy")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(is_overdue=True)),
            lat=Avg(Cast("lat", FloatField())),
            lng=Avg(Cast("lng", FloatField())),
        )
    )
    clusters = [
        {"lat": round(c["lat"], 6), "lng": round(c["lng"], 6), "n": c["n"], "overdue": c["overdue"]} for c in cells
    ]
    return {"kind": "cells", "count": sum(c["n"] for c in clusters), "cells": clusters}


def _point(p: dict) -> dict:
    return {
        "id": p["id"],
        "number": p["number"],
        "lat": p["lat"],
        "lng": p["lng"],
        "status": p["status"],
        "overdue": p["is_overdue"],
        "severity": p["severity"],
        "category": p["category__name"] or "",
        "level": p["command_level"],
    }


def board(user, area=None, limit=60) -> dict:
    """The dispatch board: counts per open state, overdue, due soon and returns waiting for the
    dispatcher's decision, and the open cases with the overdue first, then the nearest deadline
    (dispatch deadline, else the earliest assignment's); each case says whether a return waits."""
    now = timezone.now()
    soon = now + timedelta(hours=settings.INSIGHT_DUE_SOON_HOURS)
    cases = filter_map_cases(roles.visible_cases(user), area=area)
    next_assignment = Subquery(
        Assignment.objects.filter(case=OuterRef("pk"), status__in=ACTIVE_ASSIGNMENT)
        .order_by("deadline")
        .values("deadline")[:1]
    )
    cases = cases.annotate(
        next_deadline=Coalesce(next_assignment, F("dispatch_deadline")), return_waiting=Exists(waiting_returns())
    )
    counts = dict(cases.order_by().values_list("status").annotate(n=Count("id")))
    due_soon = cases.filter(is_overdue=False, next_deadline__lte=soon)
    totals = {
        "states": [(s, Status(s).label, counts.get(s, 0)) for s in QUEUE_STATES],
        "open": sum(counts.values()),
        "overdue": cases.filter(is_overdue=True).count(),
        "due_soon": due_soon.count(),
        "returns_to_decide": cases.filter(return_waiting=True).count(),
    }
    rows = list(
        cases.select_related("area", "category", "matter_item__department", "duplicate_of").order_by(
            "-is_overdue", F("next_deadline").asc(nulls_last=True), "-created_at"
        )[:limit]
    )
    for c in rows:
        c.due_soon = not c.is_overdue and c.next_deadline is not None and c.next_deadline <= soon
    return {**totals, "cases": rows, "soon_hours": settings.INSIGHT_DUE_SOON_HOURS}


def waiting_returns(case=None):
    """Returned assignments the dispatcher has not decided on (退回待审核), of a case (default: the
    outer query's, for Exists)."""
    case = OuterRef("pk") if case is None else case
    return Assignment.objects.filter(RETURN_WAITING, case=case)


def suggested_department(case: Case):
    """The matter item's default department (入格事项 → 部门), when it has one."""
    item = case.matter_item
    return item.department if item is not None and item.department_id else None


def recurring_spots(
    user, area=None, *, min_cases=None, radius_m=None, days=None, now=None, category_id=None
) -> list[dict]:
    """未诉先办: places where one category keeps coming back — at least min_cases cases of the
    same category within radius_m metres of a centre case, all reported in the last `days` days.
    Greedy: the case with the most neighbours becomes a spot with its neighbours, which are then
    taken; repeated until no case has enough neighbours left. user None: every case (the spot
    rules of wangge.proactive, run by the worker; `area` is then the rule's scope). The command
    center's own proactive cases are left out: they are the answer to a spot, not a report."""
    min_cases = min_cases or settings.INSIGHT_SPOT_MIN_CASES
    radius_m = radius_m or settings.INSIGHT_SPOT_RADIUS_M
    days = days or settings.INSIGHT_SPOT_DAYS
    since = (now or timezone.now()) - timedelta(days=days)
    cases = (
        (Case.objects.all() if user is None else roles.visible_cases(user))
        .filter(created_at__gte=since, category__isnull=False, lat__isnull=False)
        .exclude(status=Status.MERGED)
        .exclude(channel=Channel.PROACTIVE)
    )
    if category_id is not None:
        cases = cases.filter(category_id=category_id)
    if area is not None:
        cases = cases.filter(under("area_path", area.path))
    by_category = defaultdict(list)
    for row in cases.order_by().values_list(
        "id", "category_id", "category__name", "lat", "lng", "created_at", "status", "area__name"
    ):
        by_category[row[1]].append(row)
    spots = []
    for rows in by_category.values():
        if len(rows) < min_cases:
            continue
        spots += _spots_of(rows, min_cases, radius_m)
    spots.sort(key=lambda s: (-s["count"], -s["last"].timestamp()))
    return spots


def _spots_of(rows, min_cases, radius_m) -> list[dict]:
    dlat = radius_m / 111_000
    cells = defaultdict(list)
    for i, r in enumerate(rows):
        cells[(int(r[3] // dlat), int(r[4] // dlat))].append(i)

    def neighbours(i):
        r = rows[i]
        cx, cy = int(r[3] // dlat), int(r[4] // dlat)
        found = []
        # a degree of longitude is shorter than one of latitude: search wide enough east-west
        span = max(1, math.ceil(1 / max(math.cos(math.radians(r[3])), 0.1)))
        for x in range(cx - 1, cx + 2):
            for y in range(cy - span, cy + span + 1):
                for j in cells.get((x, y), ()):
                    if distance_m(r[4], r[3], rows[j][4], rows[j][3]) <= radius_m:
                        found.append(j)
        return found

    near = {i: set(neighbours(i)) for i in range(len(rows))}
    taken: set[int] = set()
    spots = []
    while True:
        best, members = None, set()
        for i, ns in near.items():
            if i in taken:
                continue
            free = ns - taken
            if len(free) > len(members):
                best, members = i, free
        if best is None or len(members) < min_cases:
            return spots
        taken |= members
        chosen = [rows[j] for j in members]
        spots.append(
            {
                "category": chosen[0][2],
                "category_id": chosen[0][1],
                "count": len(chosen),
                "open": sum(1 for r in chosen if r[6] in OPEN_STATUSES),
                "lat": round(sum(r[3] for r in chosen) / len(chosen), 6),
                "lng": round(sum(r[4] for r in chosen) / len(chosen), 6),
                "area": rows[best][7],
                "first": min(r[5] for r in chosen),
                "last": max(r[5] for r in chosen),
                "case_ids": sorted(r[0] for r in chosen),
            }
        )


HEAT_CELL_M = 250  # default bin edge of the heat map
HEAT_CELL_RANGE = (50, 5000)


def heat(user, area, period, *, category: str = "", cell_m: int = HEAT_CELL_M) -> dict:
    """The heat map: cases reported in the period (merged duplicates aside) under `area`, of the
    user's jurisdiction only, counted per square bin of about cell_m metres (binned in the
    database: a city's year of cases is a few thousand bins, never a million points). Each bin
    gives its centre and its count; `max` is the largest count (the layer's full intensity)."""
    low, high = HEAT_CELL_RANGE
    if not low <= cell_m <= high:
        message = _("Give the bin size in metres, between %(low)s and %(high)s.")
        raise ValidationError({"cell": message % {"low": low, "high": high}})
    start = timezone.make_aware(datetime.combine(period.start, time.min))
    end = timezone.make_aware(datetime.combine(period.end + timedelta(days=1), time.min))
    cases = (
        filter_map_cases(roles.visible_cases(user), status="all", category=category, area=area)
        .alias(reported_at=_period_column(area, end - start))
        .filter(reported_at__gte=start, reported_at__lt=end, lat__isnull=False, lng__isnull=False)
        .exclude(status=Status.MERGED)
    )
    dlat, dlng = bin_size(cell_m, area.centroid_lat)
    rows = (
        cases.order_by()
        .annotate(by=Floor(F("lat") / dlat), bx=Floor(F("lng") / dlng))
        .values("by", "bx")
        .annotate(n=Count("id"))
    )
    points = sorted(
        ([round((r["by"] + 0.5) * dlat, 6), round((r["bx"] + 0.5) * dlng, 6), r["n"]] for r in rows),
        key=lambda p: (-p[2], p[0], p[1]),
    )
    return {
        "area": area.code,
        "period": {"key": period.key, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "category": category,
        "cell_m": cell_m,
        "count": sum(p[2] for p in points),
        "max": points[0][2] if points else 0,
        "points": points,
    }


def _period_column(area, length: timedelta):
    """created_at, for a period filter that also has the area's path range. SQLite keeps no
    statistics on ranges and walks the created_at index for any two-sided period: a town's year
    then reads the whole city's year (1,000,000 cases: seconds). Below the city and over more than
    a week, the area's path range is the smaller set, so created_at is kept out of SQLite's index
    choice (its unary +, a no-op on the value). PostgreSQL's planner weighs both ranges itself."""
    if connection.vendor == "sqlite" and area.level != Level.CITY and length > timedelta(days=7):
        return Func(F("created_at"), template="+%(expressions)s", output_field=DateTimeField())
    return F("created_at")


def bin_size(cell_m: float, lat: float | None) -> tuple[float, float]:
    """The bin's edges in degrees (latitude, longitude) for cell_m metres at the area's latitude."""
    lat = 23.0 if lat is None else lat
    dlat = cell_m / 111_000
    return dlat, cell_m / (111_000 * max(math.cos(math.radians(lat)), 0.1))


def nearest_workers(user, case: Case, limit: int = 5) -> list[dict]:
    """The on-duty field workers nearest the case (distance from their last position, heard from
    within PATROL_ON_DUTY_MINUTES), among those the user supervises (patrol.visible_workers)."""
    from wangge.patrol.models import WorkerPosition
    from wangge.patrol.queries import visible_workers

    if case.lat is None or case.lng is None:
        return []
    recent = timezone.now() - timedelta(minutes=settings.PATROL_ON_DUTY_MINUTES)
    rows = list(
        WorkerPosition.objects.filter(worker__in=visible_workers(user), at__gte=recent)
        .select_related("worker")
        .only("lat", "lng", "at", "worker__username", "worker__full_name")
    )
    if not rows:
        return []
    metres = distance_m(case.lng, case.lat, [p.lng for p in rows], [p.lat for p in rows])
    ranked = sorted(zip(rows, (float(m) for m in metres), strict=True), key=lambda pm: pm[1])[:limit]
    return [
        {
            "username": p.worker.username,
            "name": str(p.worker),
            "distance_m": round(m),
            "km": round(m / 1000, 1),
            "at": p.at,
            "lat": p.lat,
            "lng": p.lng,
        }
        for p, m in ranked
    ]


def open_duplicate(user, case: Case):
    """The open case this one is flagged as a likely duplicate of, when the user may see it."""
    if not case.duplicate_of_id or case.status not in OPEN_STATUSES:
        return None
    return (
        roles.visible_cases(user)
        .filter(pk=case.duplicate_of_id, status__in=OPEN_STATUSES)
        .select_related("category", "area")
        .first()
    )
