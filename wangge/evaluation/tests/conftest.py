import pytest
from django.utils import timezone

from wangge.accounts.models import Department, Membership, Role, User
from wangge.cases.tests.conftest import act, new_case, photo_of  # noqa: F401 (fixtures)
from wangge.evaluation.period import by_dates


@pytest.fixture
def today():
    day = timezone.localdate()
    return by_dates(day, day)


@pytest.fixture
def handler(db):
    """handler("housing") → a department handler of that department (made once)."""

    def make(code):
        user, _ = User.objects.get_or_create(username=f"{code}_handler_t")
        Membership.objects.get_or_create(
            user=user, role=Role.DEPARTMENT_HANDLER, department=Department.objects.get(code=code)
        )
        return user

    return make


__all__ = ["act", "shift_back"]


def shift_back(days=1, cases=None):
    """Move the trail (of these cases, or all) `days` back in time, so that an ended period holds it."""
    from datetime import timedelta

    from django.db.models import F

    from wangge.cases.models import Assignment, Case, CaseEvent

    delta = timedelta(days=days)
    for model, fields in (
        (Case, ["created_at", "dispatched_at", "closed_at", "dispatch_deadline", "dispatch_overdue_at"]),
        (Assignment, ["created_at", "deadline", "accepted_at", "done_at", "overdue_at"]),
        (CaseEvent, ["created_at"]),
    ):
        rows = model.objects.all()
        if cases is not None:
            rows = rows.filter(**({"pk__in": [c.pk for c in cases]} if model is Case else {"case__in": cases}))
        for name in fields:
            rows.filter(**{f"{name}__isnull": False}).update(**{name: F(name) - delta})


@pytest.fixture
def yesterday():
    day = timezone.localdate() - __import__("datetime").timedelta(days=1)
    return by_dates(day, day)
