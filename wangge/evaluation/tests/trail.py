"""Hand-built trails in an ended period: cases made now, then moved back in time as a whole
(every timestamp of the cases, their assignments and events), so that a report of last month can
be computed, published and appealed."""

from datetime import datetime, time

from django.db.models import DateTimeField, F
from django.utils import timezone

from wangge.cases.models import Assignment, Case, CaseEvent
from wangge.evaluation.period import Period, last_month

from .conftest import act


def move_into(period: Period, cases, day: int = 10) -> None:
    """Shift the cases' whole trail so that it happened on `day` of the period, as it did now."""
    target = datetime.combine(period.start.replace(day=day), time(10), timezone.get_current_timezone())
    delta = timezone.now() - target
    ids = [c.pk for c in cases]
    for model, key in ((Case, "pk__in"), (Assignment, "case_id__in"), (CaseEvent, "case_id__in")):
        fields = {f.name: F(f.name) - delta for f in model._meta.concrete_fields if isinstance(f, DateTimeField)}
        model.objects.filter(**{key: ids}).update(**fields)


def fire_cases(new_case, done: int = 1, waiting: int = 1) -> list[Case]:
    """Cases in Houjie (village A) dispatched to the fire department: `done` reported back as
    handled, `waiting` not taken up; all last month."""
    cases = []
    for n in range(done + waiting):
        case = new_case()
        act(case, "village_dispatcher", "register")
        act(case, "village_dispatcher", "dispatch", departments=["fire"])
        if n < done:
            act(case, "fire_handler", "accept")
            act(case, "fire_handler", "feedback", note="已清理")
        cases.append(case)
    move_into(last_month(), cases)
    return cases


__all__ = ["fire_cases", "last_month", "move_into"]
