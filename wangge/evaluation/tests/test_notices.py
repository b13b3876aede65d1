"""Publishing a report tells each subject its score (in-app; department heads by SMS when the scheme
says so), and flags a subject below the scheme's threshold to the leaders over it."""

import pytest

from wangge.accounts.models import Department, Membership, Role, User
from wangge.areas.models import Area
from wangge.cases.tests.conftest import VILLAGE_A_GRID
from wangge.evaluation import actions
from wangge.evaluation.models import Scheme
from wangge.notify.models import Notification

from .trail import fire_cases, last_month

pytestmark = pytest.mark.django_db


def publish(code):
    report = actions.compute_report(Scheme.objects.get(code=code), last_month())
    return actions.publish_report(report, User.objects.get(username="admin"))


def told(username, channel="inapp"):
    """The user's notifications about evaluation reports."""
    rows = Notification.objects.filter(recipient__username=username, channel=channel)
    return list(rows.filter(dedupe_key__startswith="evaluation:"))


def member(username, role, phone="13900001111", **where):
    person = User.objects.create(username=username, full_name=username)
    person.set_phone(phone)
    person.save(update_fields=["phone_encrypted"])
    Membership.objects.create(user=person, role=role, **where)
    return person


def fire_row(report):
    return report.rows.get(subject_key="fire", slice_path="")


@pytest.fixture
def fire_head(db):
    return member("fire_head", Role.LEADER, department=Department.objects.get(code="fire"))


def test_each_subject_is_told_its_score(new_case, fire_head):
    fire_cases(new_case, done=1, waiting=0)
    report = publish("cjj-department")  # sms_heads: true
    row = fire_row(report)
    (note,) = told("fire_handler")
    assert f"{row.score:g}" in note.subject and row.subject_label in note.subject
    assert note.url == actions.report_url(report)
    assert told("fire_handler", "sms") == []  # a handler is not the department's head
    assert len(told("fire_head")) == 1 and len(told("fire_head", "sms")) == 1
    # The town's slice of the department is the same work: told once.
    assert Notification.objects.filter(dedupe_key__startswith=f"evaluation:{report.pk}:fire").count() == 3


def test_no_sms_when_the_scheme_says_not(new_case, fire_head, user):
    scheme = Scheme.objects.get(code="cjj-department")
    body = {**scheme.version_for(last_month().start).body, "sms_heads": False}
    actions.save_scheme_version(scheme, body, last_month().start, user("admin"))
    fire_cases(new_case, done=1, waiting=0)
    publish("cjj-department")
    assert len(told("fire_head")) == 1 and told("fire_head", "sms") == []


def test_a_head_who_also_handles_gets_the_sms(new_case, fire_head):
    fire = Department.objects.get(code="fire")
    Membership.objects.create(user=fire_head, role=Role.DEPARTMENT_HANDLER, department=fire)
    fire_cases(new_case, done=1, waiting=0)
    publish("cjj-department")
    assert len(told("fire_head")) == 1 and len(told("fire_head", "sms")) == 1


def test_the_grid_manager_hears_their_own_score(new_case):
    fire_cases(new_case)
    report = publish("cjj-grid-manager")
    mine = report.rows.get(subject_key=str(User.objects.get(username="grid_manager").pk))
    (note,) = told("grid_manager")
    assert mine.subject_label in note.subject
    assert told("grid_manager", "sms") == []


def test_a_department_below_the_threshold_is_flagged_to_the_city_leaders(new_case):
    city_leader = member("city_leader", Role.LEADER, area=Area.objects.get(level="city"))
    fire_cases(new_case, done=0, waiting=1)  # overdue, nothing handled
    report = publish("cjj-department")
    assert fire_row(report).score < 60
    flags = [n for n in told(city_leader.username) if n.dedupe_key.endswith(":flag")]
    assert any("消防" in n.subject or fire_row(report).subject_label in n.subject for n in flags)
    assert not [n for n in told("leader") if n.dedupe_key.endswith(":flag")]  # Houjie's leader: not over it


def test_an_area_below_the_threshold_is_flagged_to_its_town_leader(new_case):
    fire_cases(new_case, done=0, waiting=1)  # registered in village A, not closed
    report = publish("cjj-area")
    grid = report.rows.get(subject_key=VILLAGE_A_GRID)
    assert grid.score is not None and grid.score < 60
    flags = {n.dedupe_key for n in told("leader") if n.dedupe_key.endswith(":flag")}
    assert f"evaluation:{report.pk}:{VILLAGE_A_GRID}:flag" in flags
    quiet = report.rows.filter(score__isnull=True).exclude(subject_key__in=[VILLAGE_A_GRID]).first()
    assert f"evaluation:{report.pk}:{quiet.subject_key}:flag" not in flags  # no work, no score, no flag


def test_telling_costs_queries_per_notification_not_per_row(new_case):
    """A city's area report has thousands of rows, most with no one to tell: finding who to tell is a
    few queries for the whole report."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wangge.evaluation import notices

    fire_cases(new_case, done=0, waiting=1)
    report = actions.compute_report(Scheme.objects.get(code="cjj-area"), last_month())
    rows = list(report.rows.all())
    before = Notification.objects.count()
    with CaptureQueriesContext(connection) as queries:
        notices.report_published(report, rows)
    sent = Notification.objects.count() - before
    assert len(rows) > 20 and sent
    assert len(queries) <= 6 + 4 * sent, (len(queries), sent, len(rows))  # notify(): ~4 a row
