"""Case actions sent with an Idempotency-Key (the field app's outbox): a replay answers the same and
acts once; a key reused for another request, or a change made meanwhile by someone else, is a 409
that says what happened."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.cases.models import CaseActionKey, CaseEvent, CasePhoto, Status

from .conftest import act, jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def verifying(new_case):
    """A case of grid_manager's grid, fed back by the fire department: waiting for verification."""
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "feedback", note="已清理")
    case.refresh_from_db()
    assert case.status == Status.VERIFYING
    return case


def post_action(api, case, key, **body):
    if key:
        api.headers["Idempotency-Key"] = key
    return api.post(f"/api/v1/cases/{case.pk}/transitions", body)


def events(case, action):
    return CaseEvent.objects.filter(case=case, action=action).count()


def test_a_verification_sent_again_answers_the_same_and_is_recorded_once(api_as, verifying):
    api = api_as("grid_manager")
    first = post_action(api, verifying, "outbox-1", action="verify_pass", version=verifying.version)
    assert first.status_code == 200, first.content
    assert first.json()["status"] == Status.CLOSED
    again = post_action(api, verifying, "outbox-1", action="verify_pass", version=verifying.version)
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert events(verifying, "verify_pass") == 1
    assert CaseActionKey.objects.filter(case=verifying).count() == 1


def test_on_site_handling_with_a_photo_sent_again_is_one_event(api_as, new_case):
    case = new_case(description="路灯不亮")
    api = api_as("grid_manager")
    upload = api.client.post(
        "/api/v1/cases/photos",
        {"file": SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")},
        headers=api.headers,
    )
    assert upload.status_code == 201
    photo_id = upload.json()["id"]
    body = {"action": "handle_on_site", "version": case.version, "note": "已更换灯泡", "photo_ids": [photo_id]}
    first = post_action(api, case, "outbox-2", **body)
    assert first.status_code == 200, first.content
    # The photo is on the case now, so the same body would be refused without the key: it answers the same.
    again = post_action(api, case, "outbox-2", **body)
    assert again.status_code == 200, again.content
    assert again.json() == first.json() and again.json()["status"] == Status.CLOSED
    assert events(case, "handle_on_site") == 1
    event = CaseEvent.objects.get(case=case, action="handle_on_site")
    assert list(CasePhoto.objects.filter(event=event).values_list("pk", flat=True)) == [photo_id]


def test_a_key_reused_for_another_request_is_refused(api_as, verifying, new_case):
    api = api_as("grid_manager")
    assert post_action(api, verifying, "outbox-3", action="verify_pass", version=verifying.version).status_code == 200
    other = post_action(api, verifying, "outbox-3", action="verify_fail", version=verifying.version, note="没修好")
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    elsewhere = new_case()
    moved = post_action(api, elsewhere, "outbox-3", action="verify_pass", version=elsewhere.version)
    assert moved.status_code == 409
    assert events(verifying, "verify_fail") == 0 and events(elsewhere, "verify_pass") == 0


def test_keys_are_per_account(api_as, verifying, new_case):
    """Another account's identical key is its own request (here refused on its own merits)."""
    mine = post_action(api_as("grid_manager"), verifying, "k", action="verify_pass", version=verifying.version)
    assert mine.status_code == 200
    case = new_case()
    response = post_action(api_as("village_dispatcher"), case, "k", action="register", version=case.version)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.REGISTERED


def test_a_change_made_meanwhile_is_a_clear_conflict_not_a_second_event(api_as, verifying):
    seen = verifying.version
    act(verifying, "village_dispatcher", "close", outcome="cannot_fix", note="无法修复，已结案")
    response = post_action(api_as("grid_manager"), verifying, "outbox-4", action="verify_pass", version=seen)
    assert response.status_code == 409
    data = response.json()
    assert data["version"] == seen + 1
    assert "已被他人修改" in data["detail"]  # "Someone else changed this case in the meantime"
    assert events(verifying, "verify_pass") == 0
    assert not CaseActionKey.objects.exists()
    # Sent again (the phone does not, but another client might): still the same conflict.
    assert (
        post_action(api_as("grid_manager"), verifying, "outbox-4", action="verify_pass", version=seen).status_code
        == 409
    )


def test_a_key_too_long_is_a_field_error(api_as, verifying):
    response = post_action(
        api_as("grid_manager"), verifying, "x" * 151, action="verify_pass", version=verifying.version
    )
    assert response.status_code == 400 and "idempotency_key" in response.json()["errors"]
    assert verifying.events.filter(action="verify_pass").count() == 0
