"""Risk class 3 (三级（高）, registry.RiskClass.HIGH) is the highest: its buildings are inspected most
often and their tasks come first; the phone's task list names the risk class and the checklist."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from wangge.patrol import actions
from wangge.patrol.checklists import DEFAULT_RULES
from wangge.patrol.models import InspectionRule, InspectionTask, TargetKind, TaskStatus
from wangge.patrol.queries import tasks_for
from wangge.registry.models import Building, RiskClass


def building_every_days(rules, risk):
    return next(every for kind, r, *_rest, every, _code in rules if kind == TargetKind.BUILDING and r == risk)


def test_the_shipped_rules_inspect_high_risk_buildings_most_often():
    assert RiskClass.HIGH == 3 and RiskClass.LOW == 1
    assert building_every_days(DEFAULT_RULES, 3) < building_every_days(DEFAULT_RULES, 2)
    assert building_every_days(DEFAULT_RULES, 2) < building_every_days(DEFAULT_RULES, 1)


@pytest.mark.django_db
def test_the_seeded_rules_apply_in_that_direction(make_building):
    rules = list(InspectionRule.objects.filter(is_active=True))
    high, low = make_building(name="高风险楼"), make_building(name="低风险楼")
    Building.objects.filter(pk=high.pk).update(risk_class=RiskClass.HIGH)
    high.refresh_from_db()
    assert actions.rule_for(TargetKind.BUILDING, high, rules).every_days < (
        actions.rule_for(TargetKind.BUILDING, low, rules).every_days
    )


@pytest.mark.django_db
def test_the_migration_turns_round_only_the_rules_still_as_shipped():
    migration = importlib.import_module("wangge.patrol.migrations.0005_risk_class_highest_first")
    InspectionRule.objects.all().delete()
    as_shipped_low = InspectionRule.objects.create(
        target_kind="building", risk_class=1, every_days=7, checklist_code="building_visit"
    )
    as_shipped_high = InspectionRule.objects.create(
        target_kind="building", risk_class=3, every_days=90, checklist_code="building_visit"
    )
    edited = InspectionRule.objects.create(
        target_kind="building", risk_class=3, every_days=14, checklist_code="building_visit"
    )
    migration.turn_round(apps, None)
    as_shipped_low.refresh_from_db(), as_shipped_high.refresh_from_db(), edited.refresh_from_db()
    assert (as_shipped_high.every_days, as_shipped_low.every_days, edited.every_days) == (7, 90, 14)


@pytest.fixture
def three_tasks(make_building, user):
    """Three buildings in the grid manager's grid, each with an open task only: a low-risk one due
    earliest, and two high-risk ones due on the same later day (the first one farther off)."""
    InspectionTask.objects.all().delete()
    today = timezone.localdate()
    made = {}
    for name, risk, due in (("低风险楼", 1, today - timedelta(days=2)), ("高风险远", 3, today), ("高风险近", 3, today)):
        building = make_building(name=name)
        Building.objects.filter(pk=building.pk).update(risk_class=risk)
        if name == "高风险远":
            Building.objects.filter(pk=building.pk).update(lat=building.lat + 0.003)  # ~330 m north
        made[name] = InspectionTask.objects.create(
            target_kind=TargetKind.BUILDING,
            building=building,
            target_key=actions.target_key(TargetKind.BUILDING, building.pk),
            area_path=building.area_path,
            checklist_code="building_visit",
            due_date=due,
            risk_class=risk,
        )
    return made


@pytest.mark.django_db
def test_tasks_are_listed_highest_risk_first_then_by_due_date(three_tasks, user):
    listed = [t.building.name for t in tasks_for(user("grid_manager")) if t.target_kind == TargetKind.BUILDING]
    assert listed[-1] == "低风险楼"  # overdue, but the lowest risk class
    assert set(listed[:2]) == {"高风险远", "高风险近"}
    assert [t.risk_class for t in InspectionTask.objects.filter(status=TaskStatus.OPEN)][0] == 3  # model order too


@pytest.mark.django_db
def test_the_phone_task_list_names_risk_and_checklist_and_orders_by_distance_among_equals(three_tasks, api_as):
    near = three_tasks["高风险近"].building
    response = api_as("grid_manager").get(f"/api/v1/patrol/tasks?lat={near.lat}&lng={near.lng}")
    assert response.status_code == 200
    rows = [r for r in response.json()["items"] if r["target_kind"] == "building"]
    assert [r["id"] for r in rows] == [
        three_tasks["高风险近"].pk,
        three_tasks["高风险远"].pk,
        three_tasks["低风险楼"].pk,
    ]
    first = rows[0]
    assert first["risk_label"] == "三级（高）"
    assert first["checklist_name"] == "楼栋走访及信息采集"
    assert first["distance_m"] == 0
    assert rows[2]["risk_label"] == "一级（低）" and rows[2]["overdue"]
    # Without a position: the same risk and date order, no distance.
    plain = api_as("grid_manager").get("/api/v1/patrol/tasks").json()["items"]
    assert [r["risk_class"] for r in plain] == sorted((r["risk_class"] for r in plain), reverse=True)
    assert all(r["distance_m"] is None for r in plain)


@pytest.mark.django_db
def test_a_position_out_of_range_is_a_field_error(api_as):
    response = api_as("grid_manager").get("/api/v1/patrol/tasks?lat=91&lng=113")
    assert response.status_code in (400, 422)
    assert "lat" in response.text


@pytest.mark.django_db
def test_the_task_page_names_risk_class_and_checklist(three_tasks, client_as):
    html = client_as("grid_manager").get("/patrol/tasks/").content.decode()
    assert "三级（高）" in html and "楼栋走访及信息采集" in html
    assert "building_visit" not in html.split("<main>")[1]
    assert html.index("高风险") < html.index("低风险楼")  # the highest risk class first
