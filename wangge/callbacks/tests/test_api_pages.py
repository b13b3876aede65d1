"""The callback queue and form (pages) and /api/v1/callbacks: scoped, 400 naming the field, a case
that is not closed refused."""

import pytest

from wangge.callbacks.models import CallbackTask, State
from wangge.cases.models import Status

from .conftest import act

pytestmark = pytest.mark.django_db


def test_api_lists_the_areas_callbacks_and_records_a_result(closed_citizen_case, api_as):
    case = closed_citizen_case()
    task = CallbackTask.objects.get(case=case)
    town = api_as("town_dispatcher")
    body = town.get("/api/v1/callbacks").json()
    assert [c["id"] for c in body] == [task.pk] and body[0]["case_number"] == case.number
    assert api_as("liaobu_dispatcher").get("/api/v1/callbacks").json() == []
    assert (
        api_as("liaobu_dispatcher").post(f"/api/v1/callbacks/{task.pk}/result", {"reached": False}).status_code == 404
    )
    assert api_as("grid_manager").get("/api/v1/callbacks").status_code == 403
    answer = town.post(f"/api/v1/callbacks/{task.pk}/result", {"reached": True, "resolved": True, "satisfaction": 5})
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "done" and answer.json()["satisfaction"] == 5
    assert town.get("/api/v1/callbacks", state="done").json()[0]["id"] == task.pk
    again = town.post(f"/api/v1/callbacks/{task.pk}/result", {"reached": False})
    assert again.status_code == 400  # done already


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "reached"),
        ({"reached": True, "resolved": "x", "satisfaction": 3}, "resolved"),
        ({"reached": True, "resolved": True, "satisfaction": "five"}, "satisfaction"),
    ],
)
def test_api_bad_input_is_400_naming_the_field(closed_citizen_case, api_as, body, field):
    task = CallbackTask.objects.get(case=closed_citizen_case())
    answer = api_as("town_dispatcher").post(f"/api/v1/callbacks/{task.pk}/result", body)
    assert answer.status_code == 400 and field in answer.json()["errors"]
    task.refresh_from_db()
    assert task.attempts == 0


def test_api_a_callback_on_a_case_that_is_not_closed_is_400(closed_citizen_case, api_as):
    case = closed_citizen_case()
    task = CallbackTask.objects.get(case=case)
    act(case, "village_dispatcher", "reopen", note="重新处理")
    answer = api_as("town_dispatcher").post(f"/api/v1/callbacks/{task.pk}/result", {"reached": False})
    assert answer.status_code == 400 and "结案" in answer.json()["detail"]


def test_the_queue_page_and_the_form_reopen_a_case(closed_citizen_case, client_as):
    case = closed_citizen_case(description="井盖缺失")
    task = CallbackTask.objects.get(case=case)
    client = client_as("town_dispatcher")
    page = client.get("/callbacks/").content.decode()
    assert case.number in page and "井盖缺失" in page and "回访" in page
    detail = client.get(f"/callbacks/{task.pk}/").content.decode()
    assert "138****8000" in detail and "13800138000" not in detail  # masked, "show in full" apart
    bad = client.post(f"/callbacks/{task.pk}/", {"reached": "yes", "resolved": "no", "satisfaction": "9"})
    assert bad.status_code == 400 and "1 到 5" in bad.content.decode()
    done = client.post(
        f"/callbacks/{task.pk}/",
        {"reached": "yes", "resolved": "no", "satisfaction": "2", "note": "井盖还是没有", "reopen": "yes"},
    )
    assert done.status_code == 302
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.state == State.DONE and task.reopened and case.status == Status.REGISTERED
    timeline = client.get(f"/cases/{case.pk}/").content.decode()
    assert "回访" in timeline and "井盖还是没有" in timeline
    assert client_as("liaobu_dispatcher").get(f"/callbacks/{task.pk}/").status_code == 404
    assert client_as("grid_manager").get("/callbacks/").status_code == 403
