"""Spot rules run by the worker (twice: one work), and the effect: reports per day before vs since."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from wangge.areas.models import Area
from wangge.cases import actions as case_actions
from wangge.cases.models import Case, Channel, Status
from wangge.cases.tests.conftest import act
from wangge.patrol.models import InspectionTask, TargetKind
from wangge.proactive import actions, queries
from wangge.proactive.models import ProactiveWork, SpotRule, WorkKind
from wangge.worker.lease import registry

pytestmark = pytest.mark.django_db


def town_rule(**fields):
    values = {"name": "厚街消防通道", "area": Area.objects.get(code="441900122"), "min_cases": 3, "days": 30}
    return SpotRule.objects.create(**{**values, "radius_m": 100, "kind": WorkKind.CASE, **fields})


def test_running_the_rules_twice_opens_one_work_and_a_finished_one_waits_for_new_reports(spot, user):
    lat, lng, _category, _ids = spot(3)
    rule = town_rule()
    assert actions.run_spot_rules() == 1
    assert actions.run_spot_rules() == 0
    work = ProactiveWork.objects.get()
    assert work.rule == rule and work.created_by is None and work.kind == WorkKind.CASE
    case = work.case
    assert case.channel == Channel.PROACTIVE and case.status == Status.REGISTERED and case.reporter is None
    assert case.area.code == "441900122002001" and "厚街消防通道" in case.description
    # The case is finished: the old reports alone do not open another one …
    act(case, "village_dispatcher", "close", note="已清理", outcome="withdrawn")
    assert actions.run_spot_rules() == 0
    # … a new report there does.
    report = case_actions.Report(
        description="又堵了", channel="grid_manager", lat=lat, lng=lng, matter_item="fire_exit"
    )
    case_actions.report_case(report, user("grid_manager"))
    assert actions.run_spot_rules() == 1 and actions.run_spot_rules() == 0
    assert ProactiveWork.objects.count() == 2


def test_a_rule_below_its_threshold_or_for_another_area_or_category_does_nothing(spot):
    spot(3)
    town_rule(min_cases=4)
    town_rule(area=Area.objects.get(code="441900111"))  # 寮步
    other = Case.objects.exclude(category=None).exclude(category__code=Case.objects.last().category.code).first()
    if other is not None:
        town_rule(category=other.category)
    town_rule(is_active=False)
    assert actions.run_spot_rules() == 0 and not ProactiveWork.objects.exists()


def test_a_task_rule_opens_a_spot_check(spot):
    spot(3)
    town_rule(kind=WorkKind.TASK)
    assert actions.run_spot_rules() == 1
    task = ProactiveWork.objects.get().task
    assert task.target_kind == TargetKind.SPOT and InspectionTask.objects.filter(target_kind="spot").count() == 1
    assert actions.run_spot_rules() == 0


def test_the_rules_are_a_periodic_worker_task():
    assert "proactive-spot-rules" in registry()


def test_the_effect_compares_reports_per_day_before_and_since(spot, user):
    start = timezone.now() - timedelta(days=40)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        lat, lng, category, _ids = spot(1)  # 31 days before: outside the 30-day window
    for day in (15, 20, 25, 28):  # four in the 30 days before the action
        with time_machine.travel(start + timedelta(days=day), tick=False):
            lat, lng, category, _ids = spot(1)
    acted = start + timedelta(days=30)
    with time_machine.travel(acted, tick=False):
        work = actions.act_on_spot(user("town_dispatcher"), category=category, lat=lat, lng=lng, kind="case")
        assert work.cases_at_action == 4
        # Just acted: nothing since, the 'since' period counts as one day.
        assert queries.effect(work) == {
            "before": 4,
            "before_days": 30,
            "before_per_day": 0.13,
            "since": 0,
            "since_days": 1.0,
            "since_per_day": 0.0,
            "change_pct": -100,
            "change_abs": 100,
            "fell": True,
        }
    with time_machine.travel(acted + timedelta(hours=12), tick=False):
        spot(1)  # one more half a day later: one a day 'since' (counted over one day) — up
        early = queries.effect(work)
        assert early["since"] == 1 and early["since_per_day"] == 1.0 and early["fell"] is False
    with time_machine.travel(acted + timedelta(days=10), tick=False):
        later = queries.effect(work)
    # 4 in 30 days before (0.13 a day) vs 1 in 10 days since (0.1 a day): fell by a quarter.
    assert later["since"] == 1 and later["since_days"] == 10.0 and later["since_per_day"] == 0.1
    assert later["change_pct"] == -25 and later["fell"] is True
    # The proactive case itself is no report of the spot.
    assert work.case.channel == Channel.PROACTIVE and work.case_id not in work.spot_case_ids


def test_a_task_rule_where_no_grid_manager_works_opens_nothing_and_tries_again_later(spot):
    spot(3, grid="441900122002002")  # a grid without a grid manager
    town_rule(kind=WorkKind.TASK)
    assert actions.run_spot_rules() == 0
    assert not ProactiveWork.objects.exists() and not InspectionTask.objects.filter(target_kind="spot").exists()
    town_rule(kind=WorkKind.CASE, name="改为立案")
    assert actions.run_spot_rules() == 1 and ProactiveWork.objects.get().kind == WorkKind.CASE


def test_administrators_edit_the_rules_in_the_admin_with_a_change_record(client_as):
    from wangge.history.models import ChangeRecord

    admin = client_as("admin")
    assert admin.get("/admin/proactive/spotrule/").status_code == 200
    assert admin.get("/admin/proactive/spotrule/add/").status_code == 200
    town = Area.objects.get(code="441900122")
    form = {"name": "厚街规则", "area": town.pk, "min_cases": 1, "days": 30, "radius_m": 100, "kind": "case"}
    assert admin.post("/admin/proactive/spotrule/add/", {**form, "is_active": "on"}).status_code == 200  # 1 < 2
    assert not SpotRule.objects.exists()
    response = admin.post("/admin/proactive/spotrule/add/", {**form, "min_cases": 3, "is_active": "on"})
    assert response.status_code == 302
    rule = SpotRule.objects.get()
    assert rule.area_path == town.path
    assert ChangeRecord.objects.filter(object_type__model="spotrule", object_id=str(rule.pk)).exists()
    assert admin.get("/admin/proactive/proactivework/").status_code == 200
    assert client_as("town_dispatcher").get("/admin/proactive/spotrule/").status_code in (302, 403)
