"""Evaluation periods: a month (2026-11), a quarter (2026-Q4), a year (2026) or any range of days
(2026-11-01~2026-11-15), as Asia/Shanghai dates; the bounds as aware datetimes [start, end)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR = re.compile(r"^(\d{4})$")
RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date  # inclusive

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), timezone.get_current_timezone())

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), timezone.get_current_timezone())

    @property
    def has_ended(self) -> bool:
        return timezone.localdate() > self.end

    @property
    def label(self) -> str:
        if MONTH.match(self.key):
            return _("%(y)s-%(m)s") % {"y": self.start.year, "m": f"{self.start.month:02d}"}
        if m := QUARTER.match(self.key):
            return _("Q%(q)s %(y)s") % {"q": m.group(2), "y": self.start.year}
        return self.key

    def previous(self, count: int = 1) -> list["Period"]:
        """The `count` periods of the same length just before this one, oldest first (months and
        quarters and years by the calendar, ranges by their number of days)."""
        out, period = [], self
        for _i in range(count):
            period = period._before()
            out.append(period)
        return out[::-1]

    def _before(self) -> "Period":
        if MONTH.match(self.key):
            last = self.start - timedelta(days=1)
            return month(last.year, last.month)
        if QUARTER.match(self.key):
            last = self.start - timedelta(days=1)
            return parse(f"{last.year}-Q{(last.month - 1) // 3 + 1}")
        if YEAR.match(self.key):
            return parse(str(self.start.year - 1))
        days = (self.end - self.start).days + 1
        end = self.start - timedelta(days=1)
        return by_dates(end - timedelta(days=days - 1), end)


def month(year: int, month_no: int) -> Period:
    start = date(year, month_no, 1)
    end = date(year + (month_no == 12), month_no % 12 + 1, 1) - timedelta(days=1)
    return Period(f"{year}-{month_no:02d}", start, end)


def by_dates(start: date, end: date) -> Period:
    return Period(f"{start:%Y-%m-%d}~{end:%Y-%m-%d}", start, end)


def parse(key: str, field: str = "period") -> Period:
    """A period from its key; a clear field error when it is not one."""
    key = (key or "").strip()
    try:
        if m := MONTH.match(key):
            if 1 <= int(m.group(2)) <= 12 and 2000 <= int(m.group(1)) <= 2100:
                return month(int(m.group(1)), int(m.group(2)))
        elif m := QUARTER.match(key):
            year, q = int(m.group(1)), int(m.group(2))
            if 2000 <= year <= 2100:
                return Period(key, date(year, 3 * q - 2, 1), month(year, 3 * q).end)
        elif m := YEAR.match(key):
            if 2000 <= int(key) <= 2100:
                return Period(key, date(int(key), 1, 1), date(int(key), 12, 31))
        elif m := RANGE.match(key):
            start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
            if start <= end and (end - start).days <= 366 and start.year >= 2000:
                return by_dates(start, end)
            raise ValidationError({field: _("A range runs forwards and covers at most a year.")})
    except ValueError:
        pass
    raise ValidationError(
        {field: _("Give a period as 2026-11 (month), 2026-Q4 (quarter), 2026 (year) or 2026-11-01~2026-11-15.")}
    )


def last_month() -> Period:
    first = timezone.localdate().replace(day=1) - timedelta(days=1)
    return month(first.year, first.month)


def current_month() -> Period:
    today = timezone.localdate()
    return month(today.year, today.month)
