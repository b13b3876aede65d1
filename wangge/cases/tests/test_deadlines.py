"""Deadlines with a controlled clock: reminders, overdue, escalation by rule, working hours and
holidays, and a worker that was down catching up without repeating itself."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from wangge.cases import actions
from wangge.cases.models import Case, DeadlineRule, MatterItem, Severity
from wangge.notify.models import Notification
from wangge.worktime.calendar import invalidate_calendar

from .conftest import act

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_calendar():
    invalidate_calendar()
    yield
    invalidate_calendar()


def test_reminder_then_overdue_then_escalation_once_each(new_case, user):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"], hours=48)
    assignment = case.assignments.get()
    assert assignment.remind_at == assignment.deadline - timedelta(hours=24)  # default rule: 24 h before

    assert actions.check_deadlines(assignment.remind_at - timedelta(minutes=1)).reminded == 0
    run = actions.check_deadlines(assignment.remind_at + timedelta(minutes=1))
    assert run.reminded == 1
    assert (
        Notification.objects.filter(
            recipient=user("fire_handler"), dedupe_key=f"assignment:{assignment.pk}:remind", channel="inapp"
        ).count()
        == 1
    )

    # The worker was down past the deadline: one run catches up, a second changes nothing.
    late = assignment.deadline + timedelta(hours=5)
    run = actions.check_deadlines(late)
    assert (run.overdue, run.escalated) == (1, 1)
    assert actions.check_deadlines(late + timedelta(minutes=1)).overdue == 0
    case.refresh_from_db()
    assert case.is_overdue and case.command_level == "town"
    assert list(case.events.values_list("action", flat=True))[-2:] == ["overdue", "escalate"]
    assert Notification.objects.filter(
        recipient=user("village_dispatcher"), dedupe_key=f"assignment:{assignment.pk}:overdue"
    ).exists()
    assert Notification.objects.filter(
        recipient=user("leader"), dedupe_key=f"assignment:{assignment.pk}:overdue"
    ).exists()


def test_rule_without_escalation_only_marks_overdue(new_case):
    DeadlineRule.objects.filter(matter_item__isnull=True, severity=Severity.NORMAL).update(escalate_when_overdue=False)
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"], hours=2)
    run = actions.check_deadlines(timezone.now() + timedelta(hours=3))
    assert (run.overdue, run.escalated) == (1, 0)
    case.refresh_from_db()
    assert case.command_level == "village" and case.is_overdue


def test_dispatch_deadline(new_case, user):
    case = new_case()
    run = actions.check_deadlines(case.dispatch_deadline + timedelta(minutes=1))
    assert run.dispatch_overdue == 1
    assert actions.check_deadlines(case.dispatch_deadline + timedelta(minutes=2)).dispatch_overdue == 0
    case.refresh_from_db()
    assert case.is_overdue and case.dispatch_overdue_at


def test_working_hour_rule_skips_the_weekend_and_national_day(new_case, monkeypatch):
    """rental_safety (important) gets 35 working hours: five working days of 7 h."""
    case = new_case(matter_item="rental_safety")
    assert MatterItem.objects.get(code="rental_safety").rules.get().working_hours
    # Dispatched on Tuesday 2025-09-30 at 09:00: Oct 1–8 are holidays, Oct 11 (Sat) is a make-up workday.
    start = datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: start)
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    deadline = timezone.localtime(case.assignments.get().deadline, SHANGHAI)
    # Sep 30 gives 09:00–12:00 + 14:00–17:30 = 6.5 h; then Oct 9, 10, 11, 13 (7 h each) = 34.5 h;
    # the last half hour falls on Oct 14 at 09:00.
    assert deadline == datetime(2025, 10, 14, 9, 0, tzinfo=SHANGHAI)


def test_approved_extension_clears_the_overdue_mark(new_case):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"], hours=1)
    act(case, "fire_handler", "accept")
    DeadlineRule.objects.update(escalate_when_overdue=False)
    actions.check_deadlines(timezone.now() + timedelta(hours=2))
    assert Case.objects.get(pk=case.pk).is_overdue
    act(case, "fire_handler", "request_extension", hours=24, note="等待配件")
    act(case, "village_dispatcher", "decide_extension", approve=True)
    case.refresh_from_db()
    assert not case.is_overdue and case.assignments.get().overdue_at is None


def test_a_reopened_case_gets_a_fresh_dispatch_deadline(new_case):
    """Back at the desk after a reopen, the case is not 'not dispatched in time' by the first deadline."""
    case = new_case()
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "close", outcome="withdrawn", note="撤回")
    Case.objects.filter(pk=case.pk).update(dispatch_deadline=timezone.now() - timedelta(days=3))
    act(case, "village_dispatcher", "reopen", note="又出现了")
    case.refresh_from_db()
    assert case.dispatch_deadline > timezone.now()
    actions.check_deadlines()
    case.refresh_from_db()
    assert case.dispatch_overdue_at is None
