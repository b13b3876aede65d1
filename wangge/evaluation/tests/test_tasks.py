"""The worker's evaluation tasks: a draft computed on request (the asker told either way), and last
month's drafts computed by themselves, again after the appeals, and never twice for nothing."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from wangge.evaluation import actions, appeals, tasks
from wangge.evaluation.models import Report, ReportStatus, Scheme
from wangge.evaluation.period import current_month
from wangge.notify.models import Notification
from wangge.worker.models import TaskBeat

from .trail import fire_cases, last_month

pytestmark = pytest.mark.django_db


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), timezone.get_current_timezone())


def first_of_this_month(hour, minute=0):
    return at(timezone.localdate().replace(day=1), hour, minute)


def drafts():
    return dict(
        Report.objects.filter(period_key=last_month().key, status=ReportStatus.DRAFT).values_list("scheme__code", "pk")
    )


def test_compute_task_makes_a_draft_and_tells_the_asker(new_case, user):
    fire_cases(new_case)
    scheme = Scheme.objects.get(code="cjj-department")
    report_id = tasks.compute_report_task.call_local(scheme.pk, last_month().key, user("city_dispatcher").pk)
    report = Report.objects.get(pk=report_id)
    assert report.status == ReportStatus.DRAFT and report.computed_by.username == "city_dispatcher"
    assert report.rows.get(subject_key="fire", slice_path="").measures["due"] == 2
    told = Notification.objects.get(recipient__username="city_dispatcher", channel="inapp")
    assert scheme.name in told.subject and told.url == actions.report_url(report)


def test_compute_task_tells_why_it_failed(user):
    scheme = Scheme.objects.get(code="cjj-department")
    assert tasks.compute_report_task.call_local(scheme.pk, current_month().key, user("admin").pk) is None
    assert not Report.objects.filter(scheme=scheme).exists()
    told = Notification.objects.get(recipient__username="admin", channel="inapp")
    assert scheme.name in told.subject and told.body  # the reason: the month has not ended


def test_monthly_drafts_once_then_nothing(new_case):
    fire_cases(new_case)
    active = set(Scheme.objects.filter(is_active=True).values_list("code", flat=True))
    assert tasks.refresh_drafts(first_of_this_month(0, 30)) == {}  # before 01:00 on the 1st
    done = tasks.refresh_drafts(first_of_this_month(1, 30))
    assert set(done) == active and set(done.values()) == {"new"}
    first = drafts()
    assert tasks.refresh_drafts(first_of_this_month(2, 30)) == {}  # idempotent
    assert drafts() == first
    fire = Report.objects.get(pk=first["cjj-department"]).rows.get(subject_key="fire", slice_path="")
    assert fire.measures["due"] == 2


def test_monthly_drafts_again_after_the_appeal_window_not_for_a_published_report(new_case, user, settings):
    fire_cases(new_case)
    tasks.refresh_drafts(first_of_this_month(1, 30))
    actions.publish_report(Report.objects.get(pk=drafts()["three-rates-department"]), user("admin"))
    closed = at(actions.appeal_deadline(last_month()) + timedelta(days=1), 0)
    assert tasks.refresh_drafts(closed - timedelta(minutes=1)) == {}  # still open
    done = tasks.refresh_drafts(closed + timedelta(minutes=20))
    assert "three-rates-department" not in done and set(done.values()) == {"appeals closed"}
    assert len(done) == Scheme.objects.filter(is_active=True).count() - 1
    assert tasks.refresh_drafts(closed + timedelta(hours=1, minutes=20)) == {}


def test_monthly_drafts_again_after_an_accepted_appeal(new_case, user, settings):
    settings.EVALUATION_APPEAL_DAYS = 40
    cases = fire_cases(new_case, done=0, waiting=2)
    tasks.refresh_drafts(first_of_this_month(1, 30))
    Report.objects.filter(period_key=last_month().key).update(as_of=timezone.now() - timedelta(hours=1))
    appeal = appeals.file_appeal(user("fire_handler"), subject_type="department", subject_key="fire",
                                 case_id=cases[0].pk, period_key=last_month().key, reason="派错部门")  # fmt: skip
    assert tasks.refresh_drafts() == {}  # filed, not decided: nothing moves
    appeals.decide_appeal(user("village_dispatcher"), appeal.pk, accept=True, note="核实派错")
    done = tasks.refresh_drafts()
    assert set(done) == {"cjj-department", "three-rates-department"}
    assert set(done.values()) == {"new"}  # the accepted appeal dropped the stale drafts
    fire = Report.objects.get(pk=drafts()["cjj-department"]).rows.get(subject_key="fire", slice_path="")
    assert fire.measures["due"] == 1
    assert tasks.refresh_drafts() == {}


def test_the_periodic_task_runs_under_its_lease():
    tasks.monthly_drafts.call_local()
    beat = TaskBeat.objects.get(name="evaluation-monthly-drafts")
    assert beat.last_ok is not None and not beat.last_error and beat.lease_owner == ""
