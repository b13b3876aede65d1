import json

import pytest

from wangge.accounts.models import User
from wangge.history.models import ChangeRecord


@pytest.mark.django_db
def test_profile_page_sets_own_phone_encrypted_and_recorded_masked(client_as):
    client = client_as("grid_manager")
    page = client.get("/profile/")
    assert page.status_code == 200 and "13800000" in page.content.decode()  # own number in full

    response = client.post("/profile/", {"full_name": "李网格", "email": "li@example.cn", "phone": "+86 139 1234 5678"})
    assert response.status_code == 302
    user = User.objects.get(username="grid_manager")
    assert user.phone == "13912345678" and user.full_name == "李网格"
    assert "13912345678" not in user.phone_encrypted
    record = ChangeRecord.objects.filter(object_id=str(user.pk)).latest("id")
    assert record.after["phone"] == "139****5678"
    assert "13912345678" not in json.dumps(record.after) + json.dumps(record.before)


@pytest.mark.django_db
def test_profile_page_rejects_bad_phone_and_email_without_saving(client_as):
    client = client_as("grid_manager")
    before = User.objects.get(username="grid_manager").phone
    response = client.post("/profile/", {"full_name": "x", "email": "not-an-email", "phone": "12345"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "errors" in body
    response = client.post("/profile/", {"full_name": "x", "email": "", "phone": "12345"})
    assert response.status_code == 200 and "errors" in response.content.decode()
    user = User.objects.get(username="grid_manager")
    assert user.phone == before and user.full_name != "x"


@pytest.mark.django_db
def test_api_patch_me_changes_only_given_fields(api_as):
    api = api_as("town_dispatcher")
    old_name = User.objects.get(username="town_dispatcher").full_name
    patch = {"content_type": "application/json", "headers": api.headers}
    response = api.client.patch("/api/v1/me", {"phone": "13700001111"}, **patch)
    assert response.status_code == 200
    assert response.json()["phone"] == "13700001111" and response.json()["full_name"] == old_name
    bad = api.client.patch("/api/v1/me", {"phone": "0769-22001234"}, **patch)
    assert bad.status_code == 400 and "phone" in bad.json()["errors"]
    assert User.objects.get(username="town_dispatcher").phone == "13700001111"
