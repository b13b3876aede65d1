"""Every change to the holiday calendar: checked, written and recorded here."""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from wangge.history.actions import record_change, snapshot
from wangge.history.models import ChangeAction

from .holidays import parse_holiday_file
from .models import CalendarDay


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@transaction.atomic
def load_holidays(path: str | Path, *, source: str = "", acting_user=None) -> LoadResult:
    """Upsert calendar days by date from a date,kind,name CSV. All rows valid, or nothing is written.

    Dates not in the file are left alone: a file for one year does not erase another year.
    """
    rows = parse_holiday_file(path)
    source = source or Path(path).name
    existing = {d.date: d for d in CalendarDay.objects.filter(date__in=[r["date"] for r in rows])}
    result = LoadResult()
    for row in rows:
        day = existing.get(row["date"])
        if day is None:
            day = CalendarDay.objects.create(source=source, **row)
            record_change(day, ChangeAction.CREATE, acting_user=acting_user, after=snapshot(day))
            result.created += 1
            continue
        if (day.kind, day.name) == (row["kind"], row["name"]):
            # Same day, same meaning: keep the source it was first loaded from.
            result.unchanged += 1
            continue
        before = snapshot(day)
        day.kind, day.name, day.source = row["kind"], row["name"], source
        day.save()
        record_change(day, ChangeAction.UPDATE, acting_user=acting_user, before=before, after=snapshot(day))
        result.updated += 1
    return result
