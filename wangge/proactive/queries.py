"""Reading proactive work: the list of a jurisdiction with its filters, and the effect of each work
(reports there before vs since, per day, so a short 'since' compares fairly with the window)."""

from datetime import timedelta

from django.utils import timezone

from wangge.areas.models import under
from wangge.cases.models import OPEN_STATUSES

from .actions import reports_near, within, works_near
from .models import ProactiveWork, SpotRule, WorkKind

STATES = ("open", "done")


def works(area, *, kind: str = "", state: str = "", category_id: int | None = None):
    """Proactive work under a command area (the command pages' jurisdiction), newest first."""
    rows = ProactiveWork.objects.filter(under("area_path", area.path)).select_related(
        "category", "area", "case", "task", "created_by", "rule"
    )
    if kind in WorkKind.values:
        rows = rows.filter(kind=kind)
    if category_id is not None:
        rows = rows.filter(category_id=category_id)
    if state in STATES:
        from django.db.models import Q

        open_q = Q(case__status__in=OPEN_STATUSES) | Q(task__status="open")
        rows = rows.filter(open_q) if state == "open" else rows.exclude(open_q)
    return rows.order_by("-created_at", "-pk")


def effect(work: ProactiveWork, now=None) -> dict:
    """Reports of the category within the radius in the `days` before the work vs since it, each
    also per day (the 'since' period counted as at least one day)."""
    now = now or timezone.now()
    rows = reports_near(
        work.category_id, work.lat, work.lng, work.radius_m, work.created_at - timedelta(days=work.days), now
    )
    before = sum(1 for _pk, _n, at in rows if at < work.created_at)
    since = len(rows) - before
    since_days = max((now - work.created_at).total_seconds() / 86400, 1.0)
    before_rate, since_rate = before / work.days, since / since_days
    change = round((since_rate - before_rate) / before_rate * 100) if before_rate else None
    return {
        "before": before,
        "before_days": work.days,
        "before_per_day": round(before_rate, 2),
        "since": since,
        "since_days": round(since_days, 1),
        "since_per_day": round(since_rate, 2),
        "change_pct": change,
        "change_abs": abs(change) if change is not None else None,
        "fell": since_rate < before_rate,
    }


def attach_inspections(works: list[ProactiveWork]) -> None:
    """work.inspection_id: the inspection that finished a spot check (its page shows what was found)."""
    from wangge.patrol.models import Inspection

    task_ids = [w.task_id for w in works if w.task_id]
    done = dict(Inspection.objects.filter(task_id__in=task_ids).values_list("task_id", "pk")) if task_ids else {}
    for work in works:
        work.inspection_id = done.get(work.task_id)


def rules_over(area):
    """The active spot rules that reach into this area: its own, its ancestors' and its descendants'."""
    from django.db.models import Q

    ancestors = [area.path[: i + 1] for i, ch in enumerate(area.path) if ch == "/"]
    return (
        SpotRule.objects.filter(Q(area_path__in=ancestors) | Q(area_path__startswith=area.path), is_active=True)
        .select_related("area", "category")
        .order_by("area_path", "pk")
    )


def work_for_spot(spot: dict, radius_m: float, candidates=None) -> ProactiveWork | None:
    """The work a spot of the spots page was turned into: open, or opened since its first report.
    candidates: the category's works, newest first, when the caller read them for many spots."""
    if candidates is None:
        near = works_near(spot["category_id"], spot["lat"], spot["lng"], radius_m)
    else:
        near = within(candidates, spot["lat"], spot["lng"], radius_m)
    return next((w for w in near if w.is_open or w.created_at >= spot["first"]), None)


def annotate_spots(spots: list[dict], radius_m: float) -> None:
    """For the spots page: each spot's category key (for the form), its work and that work's effect."""
    from wangge.cases.models import Category

    keys = {
        pk: f"{kind}:{code}"
        for pk, kind, code in Category.objects.filter(pk__in={s["category_id"] for s in spots}).values_list(
            "pk", "kind", "code"
        )
    }
    # Every work of the spots' categories in one query (not one per spot), matched by distance here.
    by_category = {}
    for work in (
        ProactiveWork.objects.filter(category_id__in=keys).select_related("case", "task").order_by("-created_at", "-pk")
    ):
        by_category.setdefault(work.category_id, []).append(work)
    for spot in spots:
        spot["category_key"] = keys.get(spot["category_id"], "")
        spot["work"] = work_for_spot(spot, radius_m, by_category.get(spot["category_id"], []))
        spot["effect"] = effect(spot["work"]) if spot["work"] else None
    attach_inspections([s["work"] for s in spots if s["work"]])
