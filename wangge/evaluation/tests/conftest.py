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


__all__ = ["act"]
