"""Working time: which days are worked, which hours of them, and deadlines counted in working hours.

All counting happens in local time of settings.TIME_ZONE (Asia/Shanghai): a working period
"08:30-12:00" means 08:30 on the clock of the office, whatever zone a datetime arrives in.
"""

import math
import re
import threading
from datetime import date, datetime, time, timedelta
from time import monotonic

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import CalendarDay, DayKind

# Holiday rows are read once per process. Saves and deletes in this process clear the cache at
# once; the lifetime bounds how long another process (another worker) can see an old calendar.
CACHE_SECONDS = 300
# Looking this far past the last working time without finding any means the calendar has none.
MAX_GAP_DAYS = 3 * 366

_PERIOD = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_lock = threading.Lock()
_cache: dict[date, str] | None = None
_cache_loaded_at = 0.0


# ---------------------------------------------------------------- configuration


def working_periods() -> list[tuple[time, time]]:
    """settings.WORKING_PERIODS ("08:30-12:00,14:00-17:30") as sorted (start, end) pairs."""
    value = getattr(settings, "WORKING_PERIODS", "")
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"WORKING_PERIODS must be a string like '08:30-12:00,14:00-17:30', not {value!r}.")
    periods = []
    for part in value.split(","):
        match = _PERIOD.match(part.strip())
        if not match:
            raise ImproperlyConfigured(
                f"WORKING_PERIODS: {part.strip()!r} is not a period HH:MM-HH:MM "
                f"(whole value {value!r}, expected e.g. '08:30-12:00,14:00-17:30')."
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError as exc:
            raise ImproperlyConfigured(f"WORKING_PERIODS: {part.strip()!r} is not a valid time range: {exc}.") from exc
        if start >= end:
            raise ImproperlyConfigured(f"WORKING_PERIODS: {part.strip()!r} ends before it starts.")
        periods.append((start, end))
    periods.sort()
    for (_s1, e1), (s2, _e2) in zip(periods, periods[1:], strict=False):
        if s2 < e1:
            raise ImproperlyConfigured(f"WORKING_PERIODS: periods overlap in {value!r}.")
    return periods


# ---------------------------------------------------------------- the calendar


def _calendar() -> dict[date, str]:
    global _cache, _cache_loaded_at
    cache = _cache
    if cache is not None and monotonic() - _cache_loaded_at < CACHE_SECONDS:
        return cache
    with _lock:
        cache = dict(CalendarDay.objects.values_list("date", "kind"))
        _cache, _cache_loaded_at = cache, monotonic()
    return cache


def invalidate_calendar() -> None:
    """Forget the cached holiday rows; the next question reads them again."""
    global _cache
    _cache = None


@receiver(post_save, sender=CalendarDay, dispatch_uid="worktime_calendar_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="worktime_calendar_deleted")
def _calendar_changed(**kwargs):
    invalidate_calendar()


def is_working_day(d: date) -> bool:
    """Monday–Friday, unless a public holiday; Saturday or Sunday only as a make-up workday."""
    kind = _calendar().get(d)
    if kind == DayKind.HOLIDAY:
        return False
    if kind == DayKind.WORKDAY:
        return True
    return d.weekday() < 5


# ---------------------------------------------------------------- counting


def _local(moment: datetime, name: str) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}.")
    return timezone.localtime(moment, timezone.get_default_timezone())


def _day_periods(d: date, periods, tz) -> list[tuple[datetime, datetime]]:
    return [(datetime.combine(d, s, tzinfo=tz), datetime.combine(d, e, tzinfo=tz)) for s, e in periods]


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment when `hours` of working time have passed after `start` (an aware datetime).

    Only working periods of working days count; a start outside them begins counting at the next
    period. A result that falls exactly at the end of a period is that end, not the next start.
    Whole working days are skipped at once, so 500 hours costs a few hundred dictionary lookups.
    The result is in local time; zero hours is `start` itself. Raises ValueError for negative or
    non-finite hours, and if no working time exists within MAX_GAP_DAYS (only holidays ahead).
    """
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a finite number ≥ 0, not {hours!r}.")
    local = _local(start, "start")
    remaining = timedelta(hours=hours)
    if not remaining:
        return start
    periods = working_periods()
    per_day = sum((datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in periods), timedelta())
    tz = local.tzinfo
    day = local.date()
    last_work = day
    first = True
    while True:
        if is_working_day(day):
            last_work = day
            if not first and remaining > per_day:
                remaining -= per_day
            else:
                for p_start, p_end in _day_periods(day, periods, tz):
                    begin = max(p_start, local) if first else p_start
                    if begin >= p_end:
                        continue
                    if remaining <= p_end - begin:
                        return begin + remaining
                    remaining -= p_end - begin
        elif (day - last_work).days > MAX_GAP_DAYS:
            raise ValueError(f"No working time within {MAX_GAP_DAYS} days after {last_work}: check the calendar.")
        first = False
        day += timedelta(days=1)


def working_hours_between(a: datetime, b: datetime) -> float:
    """Working hours from `a` to `b` (aware datetimes); negative when `b` is before `a`.

    The inverse of add_working_hours: working_hours_between(s, add_working_hours(s, h)) == h.
    """
    if b < a:
        return -working_hours_between(b, a)
    a, b = _local(a, "a"), _local(b, "b")
    periods = working_periods()
    tz = a.tzinfo
    total = timedelta()
    day = a.date()
    while day <= b.date():
        if is_working_day(day):
            for p_start, p_end in _day_periods(day, periods, tz):
                begin, end = max(p_start, a), min(p_end, b)
                if begin < end:
                    total += end - begin
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def deadline_after(start: datetime, hours: float, *, working_hours: bool) -> datetime:
    """The deadline `hours` after `start`: in working hours if the rule says so, else on the clock."""
    if working_hours:
        return add_working_hours(start, hours)
    return start + timedelta(hours=hours)
