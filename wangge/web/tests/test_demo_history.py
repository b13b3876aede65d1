"""The demo's weeks of history (wangge.demo_history): built through the real actions with the clock
moved, varied enough for the evaluation to rank, consistent in time, and built once only.

A reduced history (two weeks, in the test city's villages) takes 10-20 s to build, so it is built
once, for one test, in the serial pass."""

from datetime import datetime, timedelta

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from wangge.cases.actions import TRANSITIONS
from wangge.cases.models import Assignment, Case, CaseEvent, Status
from wangge.demo_history import HISTORY_KEY, Options, history_exists, seed_history
from wangge.insight.models import DailyCaseFigure
from wangge.notify.models import Channel as NotificationChannel
from wangge.notify.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.serial]

# A fixed end, so that the history (working days, holidays) is the same whatever day the test runs.
END = timezone.make_aware(datetime(2026, 11, 20, 18, 0))
OPTIONS = Options(days=14, cases_per_day=10, strict=True)
QUIET = {"log": lambda line: None}


def test_demo_history():
    from wangge.registry.demo import seed_registers
    from wangge.sensors.demo import seed_demo_sensors

    seed_registers("test", **QUIET)  # the test city has no registers (targets to inspect) …
    seed_demo_sensors(**QUIET)  # … nor sensors (alarms)
    assert seed_history("test", **QUIET) is None  # the test city gets no history of its own
    summary = seed_history("test", options=OPTIONS, end=min(END, timezone.now() - timedelta(hours=1)), **QUIET)
    assert summary is not None and summary.start < summary.end < timezone.now()
    cases = Case.objects.filter(created_at__gte=summary.start, created_at__lte=summary.end)
    # Every case of the period is the history's: its reports (sensor alarms too) or its inspections'.
    others = cases.exclude(idempotency_key__contains=HISTORY_KEY).exclude(idempotency_key__contains=":inspection-")
    assert not others.exists()
    every_kind_is_there(summary, cases)
    times_are_consistent(cases)
    past_notifications_are_read(summary)
    figures_are_rebuilt(summary)
    # Built once: a second run adds nothing.
    count, events = Case.objects.count(), CaseEvent.objects.count()
    assert history_exists()
    assert seed_history("small", options=OPTIONS, **QUIET) is None
    assert (Case.objects.count(), CaseEvent.objects.count()) == (count, events)


def every_kind_is_there(summary, cases):
    counts = summary.counts
    missing = sorted(kind for kind, n in counts.items() if not n and kind != "return_decisions")
    assert not missing, counts
    if "decide_return" in TRANSITIONS:  # the dispatcher's word on a return, once it exists
        assert counts["return_decisions"] > 0
    assert 100 <= summary.cases <= 400
    # Every department had work, and satisfaction spreads.
    departments = set(Assignment.objects.filter(case__in=cases).values_list("department__code", flat=True))
    assert len(departments) >= 8, departments
    assert len(set(cases.exclude(satisfaction=None).values_list("satisfaction", flat=True))) >= 3


def times_are_consistent(cases):
    now = timezone.now()
    assert not cases.filter(closed_at__lt=F("created_at")).exists()
    assert not cases.filter(closed_at__gt=now).exists()
    assert not cases.filter(dispatched_at__lt=F("created_at")).exists()
    assert not cases.filter(status__in=[Status.CLOSED, Status.REJECTED, Status.MERGED], closed_at=None).exists()
    # A late first dispatch stays marked when the case comes back to the desk with a fresh deadline.
    first_cycle = cases.exclude(events__action__in=["reopen", "return"])
    assert not first_cycle.filter(dispatch_overdue_at__lt=F("dispatch_deadline")).exists()
    assignments = Assignment.objects.filter(case__in=cases)
    assert not assignments.filter(created_at__lt=F("case__created_at")).exists()
    assert not assignments.filter(accepted_at__lt=F("created_at")).exists()
    assert not assignments.filter(done_at__lt=F("accepted_at")).exists()
    assert not assignments.filter(overdue_at__lt=F("deadline")).exists()
    # Each trail: id order is time order, and it starts with the report, at the case's own moment.
    trails = {}
    rows = CaseEvent.objects.filter(case__in=cases).order_by("case_id", "id")
    for case_id, action, at, reported_at in rows.values_list("case_id", "action", "created_at", "case__created_at"):
        trail = trails.setdefault(case_id, [])
        assert trail or (action, at) == ("report", reported_at), case_id
        assert not trail or trail[-1] <= at <= now, case_id
        trail.append(at)
    assert len(trails) == cases.count()


def past_notifications_are_read(summary):
    past = Notification.objects.filter(
        channel=NotificationChannel.INAPP, created_at__gte=summary.start, created_at__lte=summary.end
    )
    assert past.exists() and past.filter(read_at=None).exists()  # the last day's are still new
    assert not past.filter(created_at__lt=summary.end - timedelta(days=1), read_at=None).exists()
    assert not past.filter(read_at__lt=F("created_at")).exists()


def figures_are_rebuilt(summary):
    """The dashboards' daily figures count every case reported since the history began."""
    day = timezone.localdate(summary.start)
    reported = DailyCaseFigure.objects.filter(day__gte=day).aggregate(n=Sum("total"))["n"]
    assert reported == Case.objects.filter(created_at__gte=summary.start).count()
