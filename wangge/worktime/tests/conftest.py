import pytest

from wangge.worktime.calendar import invalidate_calendar


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Each test sees the holiday rows of its own database state, not a rolled-back test's."""
    invalidate_calendar()
    yield
    invalidate_calendar()
