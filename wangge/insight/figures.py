"""The dashboards' figures for an area and a period, read from the daily figure tables (never a
scan of the cases), each with the link to the cases behind it in the case queue."""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Department
from wangge.areas.models import Area, Level, under
from wangge.cases.models import FINISHED_STATUSES, OPEN_STATUSES, Case, Category, Channel

from .models import DailyCaseFigure, DailyDepartmentFigure

# The queue filter that lists what the closure rate counts as finished (closed: FINISHED_STATUSES).
(FINISHED,) = FINISHED_STATUSES

PERIODS = {
    "today": _("Today"),
    "week": _("This week"),
    "month": _("This month"),
    "30d": _("Last 30 days"),
    "year": _("This year"),
    "custom": _("Chosen dates"),
}
CASE_SUMS = [
    "total",
    "open",
    "closed",
    "rejected",
    "merged",
    "finished_on_time",
    "overdue",
    "open_overdue",
    "handled_on_site",
    "rated",
    "satisfaction_sum",
    "satisfied",
]
DEPARTMENT_SUMS = ["assigned", "active", "done", "done_on_time", "overdue", "returned", "returns_accepted"]


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date  # inclusive

    @property
    def label(self):
        return PERIODS.get(self.key, "")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


# Dates a period may start or end on: a period reaches ten years back and a day past its end, so a
# date near Python's first or last day (year 1 or 9999) would overflow; no case is that old or new.
DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))


def parse_date(value):
    """A date of the period (ISO), or None: not a date, or outside DATE_RANGE."""
    try:
        parsed = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed and DATE_RANGE[0] <= parsed <= DATE_RANGE[1] else None


def period_from(key: str = "", start: str = "", end: str = "", today: date | None = None) -> Period:
    today = today or timezone.localdate()
    first, last = parse_date(start), parse_date(end)
    if first or last:
        first, last = first or last, last or first
        if first > last:
            first, last = last, first
        if (last - first).days > 3660:
            first = last - timedelta(days=3660)
        return Period("custom", first, last)
    if key == "today":
        return Period(key, today, today)
    if key == "week":
        return Period(key, today - timedelta(days=today.weekday()), today)
    if key == "30d":
        return Period(key, today - timedelta(days=29), today)
    if key == "year":
        return Period(key, today.replace(month=1, day=1), today)
    return Period("month", today.replace(day=1), today)


def in_area(rows, area: Area):
    """Rows of the area's subtree: one equality filter for a town or village."""
    if area.level == Level.TOWN:
        return rows.filter(town_id=area.pk)
    if area.level == Level.VILLAGE:
        return rows.filter(village_id=area.pk)
    if area.parent_id is None and not Area.objects.filter(parent__isnull=True).exclude(pk=area.pk).exists():
        return rows  # the only city: everything
    return rows.filter(under("area_path", area.path))


def case_figures(area, period):
    return in_area(DailyCaseFigure.objects.filter(day__gte=period.start, day__lte=period.end), area)


def department_figures(area, period):
    return in_area(DailyDepartmentFigure.objects.filter(day__gte=period.start, day__lte=period.end), area)


def _sums(rows, names):
    got = rows.aggregate(**{n: Sum(n) for n in names}) if hasattr(rows, "aggregate") else rows
    return {n: got.get(n) or 0 for n in names}


def _rate(part, whole):
    return round(100 * part / whole, 1) if whole else None


def rates(s: dict) -> dict:
    """Closure rate (结案率): finished — closed, with or without a fix — of the cases reported less
    the rejected and the merged ones (`counted`): a rejected or merged case is never finished, so
    rejecting cannot raise the rate. On-time rate: finished without ever being overdue, of the
    finished; on-site share: of the closed."""
    finished = s["closed"]  # cases.models.FINISHED_STATUSES
    counted = s["total"] - s["rejected"] - s["merged"]
    return {
        **s,
        "finished": finished,
        "counted": counted,
        "closure_rate": _rate(finished, counted),
        "on_time_rate": _rate(s["finished_on_time"], finished),
        "on_site_share": _rate(s["handled_on_site"], s["closed"]),
        "satisfaction": round(s["satisfaction_sum"] / s["rated"], 2) if s["rated"] else None,
        "satisfied_rate": _rate(s["satisfied"], s["rated"]),
    }


def cases_url(area, period=None, **filters) -> str:
    query = {"area": area.code, **{k: v for k, v in filters.items() if v not in (None, "")}}
    if period is not None:
        query.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    query.setdefault("status", "all")
    return reverse("case_queue") + "?" + urlencode(query)


def summary(area, period) -> dict:
    return rates(_sums(case_figures(area, period), CASE_SUMS))


def by_channel(area, period) -> list[dict]:
    rows = case_figures(area, period).values("channel").annotate(n=Sum("total")).order_by("-n")
    labels = dict(Channel.choices)
    return [
        {
            "key": r["channel"],
            "name": str(labels.get(r["channel"], r["channel"])),
            "n": r["n"],
            "url": cases_url(area, period, channel=r["channel"]),
        }
        for r in rows
        if r["n"]
    ]


def top_categories(area, period, limit=10) -> list[dict]:
    rows = (
        case_figures(area, period)
        .filter(category_id__isnull=False)
        .values("category_id")
        .annotate(n=Sum("total"))
        .order_by("-n", "category_id")[:limit]
    )
    rows = list(rows)
    names = {c.pk: c for c in Category.objects.filter(pk__in=[r["category_id"] for r in rows])}
    result = []
    for r in rows:
        c = names.get(r["category_id"])
        if c is None:
            continue
        result.append(
            {
                "code": f"{c.kind}:{c.code}",
                "name": c.name,
                "n": r["n"],
                "url": cases_url(area, period, category=f"{c.kind}:{c.code}"),
            }
        )
    return result


def daily(area, period) -> list[dict]:
    rows = {
        r["day"]: r
        for r in case_figures(area, period)
        .values("day")
        .annotate(total=Sum("total"), closed=Sum("closed"), overdue=Sum("overdue"))
        .order_by("day")
    }
    result, day = [], period.start
    while day <= period.end:
        r = rows.get(day, {})
        one = Period("custom", day, day)
        result.append(
            {
                "day": day.isoformat(),
                "total": r.get("total") or 0,
                "finished": r.get("closed") or 0,
                "overdue": r.get("overdue") or 0,
                "url": cases_url(area, one),
                "overdue_url": cases_url(area, one, overdue="1"),
            }
        )
        day += timedelta(days=1)
    return result


def by_child_area(area, period) -> list[dict]:
    """One row per child area (towns of a city, villages of a town, grids of a village), ranked
    by closure rate, then on-time rate."""
    children = list(Area.objects.filter(parent=area).order_by("code").values("pk", "code", "name", "path"))
    rows = case_figures(area, period)
    sums = {n: Sum(n) for n in CASE_SUMS}
    if area.level in (Level.CITY, Level.TOWN):
        column = "town_id" if area.level == Level.CITY else "village_id"
        got = {r[column]: r for r in rows.values(column).annotate(**sums).order_by()}
        per_child = {c["pk"]: got.get(c["pk"]) for c in children}
    else:  # below a village: by the child on the leaf's path
        per_child = {c["pk"]: None for c in children}
        by_path = {c["path"]: c["pk"] for c in children}
        for r in rows.values("area_path").annotate(**sums).order_by():
            child = next((pk for p, pk in by_path.items() if r["area_path"].startswith(p)), None)
            if child is None:
                continue
            acc = per_child[child] or dict.fromkeys(CASE_SUMS, 0)
            per_child[child] = {n: acc[n] + (r[n] or 0) for n in CASE_SUMS}
    result = []
    for c in children:
        s = rates(_sums(per_child.get(c["pk"]) or {}, CASE_SUMS))
        child = Area(pk=c["pk"], code=c["code"], name=c["name"], path=c["path"])
        result.append(
            {
                **s,
                "code": c["code"],
                "name": c["name"],
                "url": cases_url(child, period),
                "open_url": cases_url(child, period, status="open"),
                "finished_url": cases_url(child, period, status=FINISHED),
                "overdue_url": cases_url(child, period, overdue="1"),
            }
        )
    return rank(result)


def by_department(area, period) -> list[dict]:
    """One row per department, ranked. A return leaves the department's rates only once the
    dispatcher accepted it: `counted` is the assignments less the accepted returns (the cases its
    link lists); closure rate: reported back, of the counted; on-time rate: reported back without
    ever being overdue, of what left the department's hands (reported back, or returned and not
    accepted) — returning a case it would finish late does not help a department."""
    got = {
        r["department_id"]: r
        for r in department_figures(area, period)
        .values("department_id")
        .annotate(**{n: Sum(n) for n in DEPARTMENT_SUMS})
        .order_by()
    }
    result = []
    for d in Department.objects.filter(pk__in=got).order_by("code"):
        s = _sums(got[d.pk], DEPARTMENT_SUMS)
        counted = s["assigned"] - s["returns_accepted"]
        result.append(
            {
                **s,
                "code": d.code,
                "name": d.name,
                "counted": counted,
                "closure_rate": _rate(s["done"], counted),
                "on_time_rate": _rate(s["done_on_time"], s["done"] + s["returned"] - s["returns_accepted"]),
                "url": cases_url(area, period, department=d.code),
                "overdue_url": cases_url(area, period, department=d.code, overdue="1"),
            }
        )
    return rank(result)


def rank(rows: list[dict]) -> list[dict]:
    """Best first: closure rate, then on-time rate, then volume; rows without cases last."""
    rows.sort(key=lambda r: (r["closure_rate"] is None, -(r["closure_rate"] or 0), -(r["on_time_rate"] or 0)))
    for i, r in enumerate(rows, 1):
        r["rank"] = i if r["closure_rate"] is not None else None
    return rows


def _overdue(area):
    return Case.objects.filter(under("area_path", area.path), status__in=OPEN_STATUSES, is_overdue=True)


def overdue_count(area) -> int:
    return _overdue(area).count()


def overdue_cases(area, limit: int | None = 20) -> list[dict]:
    """Open overdue cases of the area now, the oldest first (live: read from the cases)."""
    rows = (
        _overdue(area)
        .order_by("created_at")
        .values("pk", "number", "status", "description", "area__name", "created_at", "category__name")
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        {
            **r,
            "url": reverse("case_detail", args=[r["pk"]]),
            "description": r["description"][:60],
            "created_at": timezone.localtime(r["created_at"]).strftime("%Y-%m-%d %H:%M"),
        }
        for r in rows
    ]


def dashboard(area, period) -> dict:
    today = Period("today", timezone.localdate(), timezone.localdate())
    return {
        "area": {"code": area.code, "name": area.name, "level": area.level},
        "period": {"key": period.key, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "summary": summary(area, period),
        "today": summary(area, today),
        "channels": by_channel(area, period),
        "categories": top_categories(area, period),
        "daily": daily(area, period),
        "areas": by_child_area(area, period),
        "departments": by_department(area, period),
        "overdue": overdue_cases(area),
        "links": {
            "all": cases_url(area, period),
            "open": cases_url(area, period, status="open"),
            "closed": cases_url(area, period, status="closed"),
            "finished": cases_url(area, period, status=FINISHED),
            "overdue": cases_url(area, period, overdue="1"),
            "open_overdue": cases_url(area, None, status="open", overdue="1"),
        },
    }
