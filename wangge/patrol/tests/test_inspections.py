"""Inspections: planning tasks, answers checked per item, failures becoming cases or corrected with
proof, idempotent recording, versions kept, jurisdiction per role."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.cases.models import Case, CasePhoto
from wangge.patrol import actions
from wangge.patrol.models import Checklist, ChecklistItem, Inspection, InspectionTask, TaskStatus
from wangge.registry.models import RentalHouse


@pytest.fixture
def rental(make_building):
    """A rental house in the demo grid manager's grid, due for its first inspection."""
    building = make_building()
    house = RentalHouse.objects.create(
        building=building, area=building.area, area_path=building.area_path, landlord_name="陈房东"
    )
    actions.plan_inspections()
    return house


def photo_of(username):
    from django.contrib.auth import get_user_model

    return CasePhoto.objects.create(
        token=f"t{CasePhoto.objects.count()}x{username}",
        image="x.jpg",
        uploaded_by=get_user_model().objects.get(username=username),
    )


def answers(**overrides):
    base = {
        "exit_clear": True,
        "extinguisher": True,
        "smoke_alarm": True,
        "ebike_indoor": False,
        "wiring": True,
        "tenants_declared": True,
        "tenant_count": 6,
        "photo": None,
    }
    base.update(overrides)
    return [{"item": code, "value": value} for code, value in base.items() if value is not None]


def payload(house, answer_list, **extra):
    now = timezone.now()
    body = {
        "target_kind": "rental",
        "target_id": house.pk,
        "checklist": "rental_fire",
        "version": 1,
        "answers": answer_list,
        "started_at": (now - timedelta(minutes=12)).isoformat(),
        "finished_at": now.isoformat(),
        "lat": house.building.lat,
        "lng": house.building.lng,
        "accuracy_m": 9,
    }
    body.update(extra)
    return body


@pytest.mark.django_db
def test_planning_opens_one_task_per_due_target_and_is_repeatable(rental):
    task = InspectionTask.objects.get(target_key=f"rental:{rental.pk}")
    assert task.status == TaskStatus.OPEN and task.checklist_code == "rental_fire"
    assert task.due_date == timezone.localdate()  # never inspected: due today
    assert actions.plan_inspections() == 0  # nothing new the second time


@pytest.mark.django_db
def test_a_passed_inspection_closes_the_task_and_plans_the_next_one_a_month_on(api_as, rental):
    response = api_as("grid_manager").client.post(
        "/api/v1/patrol/inspections",
        payload(rental, answers()),
        content_type="application/json",
        headers={**api_as("grid_manager").headers, "Idempotency-Key": "insp-1"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["result"] == "passed" and response.json()["gps"] == "good"
    assert InspectionTask.objects.get(target_key=f"rental:{rental.pk}").status == TaskStatus.DONE
    assert actions.plan_inspections(timezone.localdate() + timedelta(days=24)) == 1  # due in 30 days, horizon 7
    nxt = InspectionTask.objects.get(target_key=f"rental:{rental.pk}", status=TaskStatus.OPEN)
    assert nxt.due_date == timezone.localdate() + timedelta(days=30)


@pytest.mark.django_db
def test_failed_items_become_cases_or_corrections_with_proof_and_a_retry_is_harmless(api_as, rental):
    api = api_as("grid_manager")
    proof = photo_of("grid_manager")
    body = payload(
        rental,
        [
            {"item": "exit_clear", "value": False, "resolution": "case", "note": "楼梯间堆放纸箱"},
            {"item": "wiring", "value": False, "resolution": "corrected", "photo_id": proof.pk},
            {"item": "ebike_indoor", "value": True, "resolution": "case"},
            *[a for a in answers() if a["item"] not in {"exit_clear", "wiring", "ebike_indoor"}],
        ],
    )
    headers = {**api.headers, "Idempotency-Key": "insp-2"}
    cases_before = Case.objects.count()
    first = api.client.post("/api/v1/patrol/inspections", body, content_type="application/json", headers=headers)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["result"] == "cases"
    by_item = {a["item"]: a for a in data["answers"]}
    assert by_item["wiring"]["resolution"] == "corrected" and by_item["wiring"]["case_id"] is None
    exit_case = Case.objects.get(pk=by_item["exit_clear"]["case_id"])
    assert exit_case.matter_item.code == "fire_exit" and "楼梯间堆放纸箱" in exit_case.description
    assert exit_case.channel == "grid_manager" and exit_case.area_path == rental.area_path
    assert Case.objects.get(pk=by_item["ebike_indoor"]["case_id"]).matter_item.code == "rental_safety"
    assert Case.objects.count() == cases_before + 2

    again = api.client.post("/api/v1/patrol/inspections", body, content_type="application/json", headers=headers)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Case.objects.count() == cases_before + 2 and Inspection.objects.filter(rental=rental).count() == 1
    # The same key for another inspection (here: started at another time) is refused, not answered.
    later = {**body, "started_at": (timezone.now() - timedelta(minutes=5)).isoformat()}
    reused = api.client.post("/api/v1/patrol/inspections", later, content_type="application/json", headers=headers)
    assert reused.status_code == 409 and "Idempotency-Key" in reused.json()["detail"]


@pytest.mark.django_db
def test_every_bad_answer_is_named_and_nothing_is_written(api_as, rental):
    body = payload(
        rental,
        [
            {"item": "exit_clear", "value": "maybe"},  # not yes/no
            {"item": "extinguisher", "value": False},  # failed without a resolution
            {"item": "wiring", "value": False, "resolution": "corrected"},  # correction without proof
            {"item": "tenant_count", "value": "six"},
            {"item": "no_such_item", "value": True},
        ],
    )
    response = api_as("grid_manager").post("/api/v1/patrol/inspections", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {
        "answers.exit_clear.value",
        "answers.extinguisher.resolution",
        "answers.wiring.photo_id",
        "answers.tenant_count.value",
        "answers.no_such_item",
        "answers.smoke_alarm.value",  # required and missing
        "answers.ebike_indoor.value",
        "answers.tenants_declared.value",
    }
    assert not Inspection.objects.filter(rental=rental).exists()
    assert InspectionTask.objects.get(target_key=f"rental:{rental.pk}").status == TaskStatus.OPEN


@pytest.mark.django_db
def test_a_stale_checklist_version_is_accepted_with_its_version(api_as, rental):
    old = Checklist.objects.get(code="rental_fire", version=1)
    new = Checklist.objects.create(code="rental_fire", version=2, name=old.name, target_kind=old.target_kind)
    for item in old.items.all():
        item.pk, item.checklist = None, new
        item.save()
    ChecklistItem.objects.create(
        checklist=new, order=99, code="escape_window", text="是否有逃生窗", answer_type="yes_no"
    )
    old.is_current = False
    old.save()
    current = api_as("grid_manager").get("/api/v1/patrol/checklists/rental_fire").json()
    assert current["version"] == 2 and current["items"][-1]["code"] == "escape_window"
    response = api_as("grid_manager").post("/api/v1/patrol/inspections", payload(rental, answers()))
    assert response.status_code == 201 and response.json()["version"] == 1


@pytest.mark.django_db
def test_missing_gps_is_recorded_as_missing(api_as, rental):
    response = api_as("grid_manager").post("/api/v1/patrol/inspections", payload(rental, answers(), lat=None, lng=None))
    assert response.json()["gps"] == "missing"
    poor = api_as("grid_manager").post("/api/v1/patrol/inspections", payload(rental, answers(), accuracy_m=400))
    assert poor.json()["gps"] == "poor"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, status",
    [("grid_manager", 201), ("grid_manager2", 404), ("village_dispatcher", 403), ("fire_handler", 403)],
)
def test_only_the_grids_worker_inspects_it(api_as, rental, username, status):
    response = api_as(username).post("/api/v1/patrol/inspections", payload(rental, answers()))
    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, sees",
    [
        ("grid_manager", True),
        ("village_dispatcher", True),
        ("town_dispatcher", True),
        ("grid_manager2", False),
        ("liaobu_dispatcher", False),
        ("fire_handler", False),
    ],
)
def test_tasks_and_history_per_role(api_as, client_as, rental, username, sees):
    api_as("grid_manager").post("/api/v1/patrol/inspections", payload(rental, answers()))
    actions.plan_inspections()
    InspectionTask.objects.filter(target_key=f"rental:{rental.pk}").update(status=TaskStatus.OPEN)
    tasks = api_as(username).get("/api/v1/patrol/tasks").json()["items"]
    assert any(t["target_kind"] == "rental" and t["target_id"] == rental.pk for t in tasks) == sees
    history = api_as(username).get("/api/v1/patrol/inspections", target_kind="rental", target_id=rental.pk).json()
    assert (history["count"] == 1) == sees
    page = client_as(username).get("/patrol/tasks/")
    assert page.status_code == 200 and (f"rental:{rental.pk}" in page.content.decode()) == sees


@pytest.mark.django_db
def test_scanning_a_plate_lists_what_can_be_inspected(api_as, rental):
    token = rental.building.qr_token
    targets = api_as("grid_manager").get(f"/api/v1/patrol/targets/by-qr/{token}").json()
    kinds = {(t["kind"], t["id"]): t for t in targets}
    assert ("building", rental.building.pk) in kinds and ("rental", rental.pk) in kinds
    assert kinds[("rental", rental.pk)]["checklist"] == "rental_fire"
    assert api_as("grid_manager").get("/api/v1/patrol/targets/by-qr/nonsense").status_code == 404
    assert api_as("grid_manager2").get(f"/api/v1/patrol/targets/by-qr/{token}").status_code == 404


@pytest.mark.django_db
def test_admin_keeps_a_used_version_and_copies_it_to_a_new_one(client_as, api_as, rental):
    api_as("grid_manager").post("/api/v1/patrol/inspections", payload(rental, answers()))
    used = Checklist.objects.get(code="rental_fire", version=1)
    admin = client_as("admin")
    page = admin.get(f"/admin/patrol/checklist/{used.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # view only
    response = admin.post("/admin/patrol/checklist/", {"action": "copy_as_new_version", "_selected_action": [used.pk]})
    assert response.status_code == 302
    current = Checklist.objects.get(code="rental_fire", is_current=True)
    assert current.version == 2 and current.items.count() == used.items.count()


@pytest.mark.django_db
def test_the_task_list_counts_every_task_not_just_the_rows_it_shows(client_as, rental, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from wangge.patrol import views

    actions.plan_inspections()
    open_tasks = InspectionTask.objects.filter(status=TaskStatus.OPEN)
    assert open_tasks.count() >= 2
    open_tasks.update(due_date=timezone.localdate() - timedelta(days=3))
    monkeypatch.setattr(views, "TASK_LIST_LIMIT", 1)
    page = client_as("village_dispatcher").get("/patrol/tasks/")
    assert page.context["overdue"] == page.context["total"] == open_tasks.count() > len(page.context["tasks"]) == 1
