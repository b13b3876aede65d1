"""A dispatcher turns a recurring spot into a case or a spot check; the same spot again is a 409."""

import pytest

from wangge.cases.models import Case, Channel, Status
from wangge.cases.tests.conftest import VILLAGE_A_GRID
from wangge.history.models import ChangeRecord
from wangge.notify.models import Notification
from wangge.patrol.models import InspectionTask, TargetKind, TaskStatus
from wangge.proactive import actions
from wangge.proactive.models import ProactiveWork, WorkKind

from .zh import english_in

pytestmark = pytest.mark.django_db


def body(lat, lng, category, kind="case", **extra):
    return {"category": category, "lat": lat, "lng": lng, "kind": kind, "note": "请提前清理", **extra}


def test_a_spot_becomes_a_registered_case_of_the_proactive_channel_and_a_second_act_is_a_conflict(spot, api_as):
    lat, lng, category, ids = spot(3)
    api = api_as("village_dispatcher")
    response = api.post("/api/v1/proactive", body(lat, lng, category))
    assert response.status_code == 201, response.content
    data = response.json()
    case = Case.objects.select_related("area", "reporter").get(pk=data["case"])
    assert case.channel == Channel.PROACTIVE and case.status == Status.REGISTERED
    assert case.area.code == VILLAGE_A_GRID and case.command_level == "village"
    assert case.reporter.username == "village_dispatcher"
    assert f"{category.partition(':')[2]}" == case.category.code
    numbers = list(Case.objects.filter(pk__in=ids).values_list("number", flat=True))
    assert all(n in case.description for n in numbers) and "请提前清理" in case.description
    assert "3" in case.description and "100" in case.description
    work = ProactiveWork.objects.get()
    listed = api.get("/api/v1/insight/spots").json()["spots"]
    assert [(s["work"], s["category_key"], s["effect"]["before"]) for s in listed] == [(work.pk, category, 3)]
    assert work.kind == WorkKind.CASE and work.cases_at_action == 3 and sorted(work.spot_case_ids) == sorted(ids)
    assert work.area.code == VILLAGE_A_GRID and work.area_path == case.area_path and work.rule is None
    assert work.created_by.username == "village_dispatcher"
    assert ChangeRecord.objects.filter(object_type__model="proactivework", object_id=str(work.pk)).exists()
    assert data["open"] is True and data["effect"]["before"] == 3 and data["effect"]["since"] == 0

    # The same spot again (the town's dispatcher, a centre a few metres off): 409 naming the work.
    again = api_as("town_dispatcher").post("/api/v1/proactive", body(lat + 0.0001, lng, category))
    assert again.status_code == 409 and again.json()["work"]["id"] == work.pk
    assert ProactiveWork.objects.count() == 1
    assert Case.objects.filter(channel=Channel.PROACTIVE).count() == 1


def test_a_spot_becomes_a_spot_check_on_the_grid_managers_phone_and_an_inspection_finishes_it(spot, api_as, client_as):
    lat, lng, category, _ids = spot(3)
    response = api_as("town_dispatcher").post("/api/v1/proactive", body(lat, lng, category, kind="task"))
    assert response.status_code == 201, response.content
    task = InspectionTask.objects.get(pk=response.json()["task"])
    assert task.target_kind == TargetKind.SPOT and task.status == TaskStatus.OPEN
    assert task.area_path.rstrip("/").endswith(VILLAGE_A_GRID) and task.lat == lat and "请提前清理" in task.note
    assert Notification.objects.filter(recipient__username="grid_manager", dedupe_key=f"patrol-task:{task.pk}:new")
    # On the grid manager's task list (phone API), not on the next village's.
    phone = api_as("grid_manager")
    tasks = phone.get("/api/v1/patrol/tasks").json()["items"]
    mine = [t for t in tasks if t["target_kind"] == "spot"]
    assert len(mine) == 1 and mine[0]["target_id"] == task.pk and mine[0]["checklist"] == "spot_check"
    assert mine[0]["lat"] == lat and task.note[:20] in mine[0]["target_label"]
    assert not [
        t for t in api_as("grid_manager2").get("/api/v1/patrol/tasks").json()["items"] if t["target_kind"] == "spot"
    ]
    checklist = phone.get("/api/v1/patrol/checklists/spot_check").json()
    assert [i["code"] for i in checklist["items"]][0] == "problem_present"
    # The manager checks: the problem is gone → the task is done, the work finished.
    done = phone.post(
        "/api/v1/patrol/inspections",
        {
            "target_kind": "spot",
            "target_id": task.pk,
            "checklist": "spot_check",
            "version": checklist["version"],
            "answers": [{"item": "problem_present", "value": False}, {"item": "what_found", "value": "已清理"}],
            "started_at": "2026-01-01T10:00:00+08:00",
            "finished_at": "2026-01-01T10:05:00+08:00",
            "lat": lat,
            "lng": lng,
            "accuracy_m": 8,
        },
    )
    assert done.status_code == 201, done.content
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert ProactiveWork.objects.get().is_open is False
    assert api_as("grid_manager").get(f"/api/v1/patrol/inspections/{done.json()['id']}").status_code == 200
    # What was found: the inspection's page, linked from the list of proactive work.
    listing = client_as("town_dispatcher").get("/command/proactive/").content.decode()
    assert f"/patrol/inspections/{done.json()['id']}/" in listing
    found = client_as("grid_manager").get(f"/patrol/inspections/{done.json()['id']}/").content.decode()
    assert "现场核查" in found and "已清理" in found and english_in(found) == []
    # Finished: the dispatcher may act on the spot again.
    assert api_as("town_dispatcher").post("/api/v1/proactive", body(lat, lng, category)).status_code == 201


def test_a_spot_check_where_no_grid_manager_works_is_refused_and_nothing_is_written(spot, api_as):
    lat, lng, category, _ids = spot(3, grid="441900122002002")
    tasks = InspectionTask.objects.count()
    response = api_as("town_dispatcher").post("/api/v1/proactive", body(lat, lng, category, kind="task"))
    assert response.status_code == 400 and "kind" in response.json()["errors"]
    assert InspectionTask.objects.count() == tasks and not ProactiveWork.objects.exists()


@pytest.mark.parametrize(
    "field, change",
    [
        ("category", {"category": "event:9999"}),
        ("category", {"category": ""}),
        ("lat", {"lat": None, "lng": None}),
        ("lng", {"lng": "east"}),
        ("lat", {"lat": 91}),
        ("kind", {"kind": "letter"}),
        ("radius_m", {"radius_m": 5}),
        ("days", {"days": 0.5}),
        ("note", {"note": "长" * 501}),
        ("lat", {"lat": 22.0, "lng": 100.0}),  # outside the city
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(spot, api_as, field, change):
    lat, lng, category, _ids = spot(3)
    cases = Case.objects.count()
    response = api_as("village_dispatcher").post("/api/v1/proactive", {**body(lat, lng, category), **change})
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Case.objects.count() == cases and not ProactiveWork.objects.exists()


def test_a_place_without_reports_of_the_category_is_no_spot(spot, api_as):
    lat, lng, category, _ids = spot(3)
    response = api_as("town_dispatcher").post("/api/v1/proactive", body(lat + 0.01, lng, category))
    assert response.status_code == 400 and "lat" in response.json()["errors"]
    assert not ProactiveWork.objects.exists()


def test_act_on_spot_raises_already_acted_on_with_the_open_work(spot, user):
    lat, lng, category, _ids = spot(3)
    first = actions.act_on_spot(user("village_dispatcher"), category=category, lat=lat, lng=lng, kind="case")
    with pytest.raises(actions.AlreadyActedOn) as raised:
        actions.act_on_spot(user("city_dispatcher"), category=category, lat=lat, lng=lng, kind="task")
    assert raised.value.work == first


def test_review_numbers_beyond_a_float_an_odd_digit_and_no_duplicate_flag(spot, api_as, client_as):
    lat, lng, category, ids = spot(3)
    api = api_as("village_dispatcher")
    for change in ({"lat": 10**400}, {"radius_m": 10**400}):
        response = api.post("/api/v1/proactive", {**body(lat, lng, category), **change})
        assert response.status_code == 400, response.content
    assert client_as("village_dispatcher").get("/command/proactive/?category=²").status_code == 200
    made = api.post("/api/v1/proactive", body(lat, lng, category)).json()
    case = Case.objects.get(pk=made["case"])
    assert case.duplicate_of_id is None  # the command center's own case answers the reports, it is not one


def test_a_conflict_names_the_work_only_to_those_who_may_see_it(spot, api_as, user):
    from wangge.accounts import actions as account_actions
    from wangge.accounts.models import Role
    from wangge.areas.models import Area

    lat, lng, category, _ids = spot(3)
    assert api_as("village_dispatcher").post("/api/v1/proactive", body(lat, lng, category)).status_code == 201
    # A dispatcher of the neighbouring village probes the same place (the act itself is refused or 409).
    other = user("grid_manager2")
    neighbour = Area.objects.get(code="441900122003")
    account_actions.add_membership(other, Role.VILLAGE_DISPATCHER, area=neighbour)
    response = api_as("grid_manager2").post("/api/v1/proactive", body(lat, lng, category))
    assert response.status_code in (404, 409), response.content
    if response.status_code == 409:
        assert response.json()["work"] is None
