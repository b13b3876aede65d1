"""Keeping the daily figures: recompute a reporting day from its cases (and their assignments).

refresh_day() replaces a day's rows in one transaction, so a dashboard never sees half a day.
refresh_dirty() is what the worker runs every minute: the days that case events touched.
"""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from wangge.areas.models import Area, Level
from wangge.cases.models import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    Assignment,
    AssignmentStatus,
    Case,
    ReturnDecision,
    Status,
)

from .models import DailyCaseFigure, DailyDepartmentFigure, DirtyDay


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _level_ids() -> dict[str, tuple[str, int]]:
    return {
        code: (level, pk)
        for code, level, pk in Area.objects.filter(level__in=[Level.TOWN, Level.VILLAGE]).values_list(
            "code", "level", "pk"
        )
    }


def _town_village(path: str, levels) -> tuple[int | None, int | None]:
    town = village = None
    for code in path.strip("/").split("/"):
        level, pk = levels.get(code, (None, None))
        if level == Level.TOWN:
            town = pk
        elif level == Level.VILLAGE:
            village = pk
    return town, village


CASE_MEASURES = {
    "total": Count("id"),
    "open": Count("id", filter=Q(status__in=OPEN_STATUSES)),
    "closed": Count("id", filter=Q(status=Status.CLOSED)),
    "rejected": Count("id", filter=Q(status=Status.REJECTED)),
    "merged": Count("id", filter=Q(status=Status.MERGED)),
    "finished_on_time": Count("id", filter=Q(status__in=FINISHED_STATUSES, is_overdue=False)),
    "overdue": Count("id", filter=Q(is_overdue=True)),
    "open_overdue": Count("id", filter=Q(is_overdue=True, status__in=OPEN_STATUSES)),
    "handled_on_site": Count("id", filter=Q(handled_on_site=True)),
    "rated": Count("satisfaction"),
    "satisfied": Count("id", filter=Q(satisfaction__gte=4)),
}
DEPARTMENT_MEASURES = {
    "assigned": Count("id"),
    "active": Count("id", filter=Q(status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED])),
    "done": Count("id", filter=Q(status=AssignmentStatus.DONE)),
    "done_on_time": Count("id", filter=Q(status=AssignmentStatus.DONE, overdue_at__isnull=True)),
    "overdue": Count("id", filter=Q(overdue_at__isnull=False)),
    "returned": Count("id", filter=Q(status=AssignmentStatus.RETURNED)),
    "returns_accepted": Count(
        "id", filter=Q(status=AssignmentStatus.RETURNED, return_decision=ReturnDecision.ACCEPTED)
    ),
}


def case_rows(cases):
    """The figure rows of a set of cases (no day): dicts keyed like DailyCaseFigure's fields."""
    from django.db.models import Sum

    return (
        cases.values("area_id", "area_path", "category_id", "channel")
        .annotate(**CASE_MEASURES, satisfaction_sum=Sum("satisfaction"))
        .order_by()
    )


def department_rows(assignments):
    return (
        assignments.exclude(status=AssignmentStatus.CANCELLED)
        .values("case__area_id", "case__area_path", "department_id")
        .annotate(**DEPARTMENT_MEASURES)
        .order_by()
    )


def refresh_day(day: date, levels=None) -> int:
    """Recompute one reporting day; the number of case figure rows written."""
    levels = levels if levels is not None else _level_ids()
    start, end = day_bounds(day)
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    case_figures = []
    for row in case_rows(cases):
        town, village = _town_village(row["area_path"], levels)
        row["satisfaction_sum"] = row["satisfaction_sum"] or 0
        case_figures.append(DailyCaseFigure(day=day, town_id=town, village_id=village, **row))
    department_figures = []
    for row in department_rows(Assignment.objects.filter(case__created_at__gte=start, case__created_at__lt=end)):
        area_id, path = row.pop("case__area_id"), row.pop("case__area_path")
        town, village = _town_village(path, levels)
        department_figures.append(
            DailyDepartmentFigure(day=day, area_id=area_id, area_path=path, town_id=town, village_id=village, **row)
        )
    with transaction.atomic():
        DailyCaseFigure.objects.filter(day=day).delete()
        DailyDepartmentFigure.objects.filter(day=day).delete()
        DailyCaseFigure.objects.bulk_create(case_figures, batch_size=2000)
        DailyDepartmentFigure.objects.bulk_create(department_figures, batch_size=2000)
    return len(case_figures)


def refresh_dirty(limit: int = 50_000) -> list[date]:
    """Recompute the days case events have touched since the last run; delete exactly the marks
    read (a mark written meanwhile stays for the next run)."""
    marks = list(DirtyDay.objects.order_by("pk").values_list("pk", "day")[:limit])
    if not marks:
        return []
    days = sorted({day for _pk, day in marks})
    levels = _level_ids()
    for day in days:
        refresh_day(day, levels)
    ids = [pk for pk, _day in marks]
    for i in range(0, len(ids), 500):
        DirtyDay.objects.filter(pk__in=ids[i : i + 500]).delete()
    return days


def refresh_all(log=None) -> int:
    """Rebuild every day that has cases (first start, or after a bulk import); the days done."""
    first = Case.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return 0
    levels = _level_ids()
    day, last = timezone.localdate(first), timezone.localdate()
    done = 0
    while day <= last:
        refresh_day(day, levels)
        done += 1
        if log and done % 30 == 0:
            log(f"{day}")
        day += timedelta(days=1)
    return done


def needs_first_build() -> bool:
    return not DailyCaseFigure.objects.exists() and Case.objects.exists()
