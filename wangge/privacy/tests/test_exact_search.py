"""Search cannot be an oracle: a full ID number, passport or phone is searched only by a POST (never
in a URL, an export link or a redirect), with the reveal permission or a logged reason, and within a
small per-user budget per hour."""

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.actions import add_membership, create_user, issue_token
from wangge.accounts.models import Role, User
from wangge.areas.models import Area
from wangge.jobs.models import Job
from wangge.privacy import models as privacy_models
from wangge.privacy.models import PersonalDataAccess
from wangge.registry import actions as registry_actions
from wangge.registry.validators import id_check_char

pytestmark = pytest.mark.django_db

GRID_A = "441900122002001"
FIRST17 = "44190019850309123"
ID = FIRST17 + id_check_char(FIRST17)
PHONE = "13900001111"
SEARCH = "/api/v1/registry/people/search"


@pytest.fixture
def person():
    return registry_actions.register_person(
        User.objects.get(username="admin"),
        {"name": "张伟", "person_type": "registered", "id_number": ID, "phone": PHONE, "area_code": GRID_A},
    )


def leader():
    """Sees Houjie's people, without the reveal permission."""
    user = create_user("plain_leader", "x" * 12)
    add_membership(user, Role.LEADER, area=Area.objects.get(code="441900122"))
    return User.objects.get(pk=user.pk)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def api(user):
    return Client(headers={"Authorization": f"Bearer {issue_token(user)}"})


@pytest.mark.parametrize("value", [ID, PHONE])
def test_a_full_number_in_the_url_finds_nothing(person, client_as, api_as, value):
    html = client_as("village_dispatcher").get(reverse("registry:person_list"), {"q": value}).content.decode()
    assert "张伟" not in html and "exact-search" in html and 'role="alert"' in html
    response = api_as("village_dispatcher").get("/api/v1/registry/people", q=value)
    assert response.status_code == 400 and "q" in response.json()["errors"]
    # a name still searches by GET
    assert "张伟" in client_as("village_dispatcher").get(reverse("registry:person_list"), {"q": "张"}).content.decode()
    assert PersonalDataAccess.objects.count() == 0


def test_page_search_is_a_post_and_the_redirect_and_export_link_carry_a_token(person, client_as):
    client = client_as("village_dispatcher")
    response = client.post(reverse("registry:person_search"), {"value": ID, "reason": "核查住户"})
    assert response.status_code == 302 and ID not in response.url and "search=" in response.url
    search = privacy_models.ExactSearch.objects.get()
    assert search.token.hex in response.url and search.found == 1 and ID not in str(search.__dict__)
    html = client.get(response.url).content.decode()
    assert "张伟" in html and ID not in html
    assert f"search={search.token.hex}" in html  # the export buttons keep the search, not the number
    access = PersonalDataAccess.objects.get()
    assert (access.object_id, access.field, access.reason) == (str(person.pk), "search:id_number", "核查住户")
    export = client.get(reverse("jobs:export", args=["people"]), {"format": "csv", "search": search.token.hex})
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "张伟" in body and ID not in body


def test_a_token_is_its_owners_only(person, client_as):
    client_as("village_dispatcher").post(reverse("registry:person_search"), {"value": ID})
    token = privacy_models.ExactSearch.objects.get().token.hex
    html = client_as("town_dispatcher").get(reverse("registry:person_list"), {"search": token}).content.decode()
    assert "张伟" not in html
    garbage = client_as("town_dispatcher").get(reverse("registry:person_list"), {"search": "x"})
    assert garbage.status_code == 200 and "张伟" not in garbage.content.decode()


def test_without_the_permission_a_reason_is_needed_and_logged(person):
    user = leader()
    assert not user.has_perm("privacy.reveal_personal_data")
    client = logged_in(user)
    refused = client.post(reverse("registry:person_search"), {"value": ID})
    assert refused.status_code == 400 and privacy_models.ExactSearch.objects.count() == 0
    refused_api = api(user).post(SEARCH, {"value": PHONE}, content_type="application/json")
    assert refused_api.status_code == 400 and "reason" in refused_api.json()["errors"]
    ok = api(user).post(SEARCH, {"value": PHONE, "reason": "回访"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["count"] == 1
    item = ok.json()["items"][0]
    assert item["phone"] == "139****1111" and item["birth_date"] is None and item["birth_year"] == 1985
    assert PersonalDataAccess.objects.get().reason == "回访"


def test_a_miss_is_logged_too(person, api_as):
    other = FIRST17[:-1] + "5"
    response = api_as("village_dispatcher").post(SEARCH, {"value": other + id_check_char(other)})
    assert response.status_code == 200 and response.json()["count"] == 0
    assert PersonalDataAccess.objects.get().object_id == ""


def test_searches_are_budgeted_per_user_per_hour(person, settings, client_as, api_as):
    settings.PRIVACY_EXACT_SEARCHES_PER_HOUR = 3
    client = api_as("village_dispatcher")
    guesses = [f"1390000{n:04d}" for n in range(1105, 1112)]  # the masked phone 139****1111, guessed
    answers = [client.post(SEARCH, {"value": g}).status_code for g in guesses]
    assert answers == [200, 200, 200, 429, 429, 429, 429]
    page = client_as("village_dispatcher").post(reverse("registry:person_search"), {"value": PHONE})
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert privacy_models.ExactSearch.objects.count() == 3 and PersonalDataAccess.objects.count() == 3
    # another user has their own budget
    assert api_as("town_dispatcher").post(SEARCH, {"value": PHONE}).json()["count"] == 1


def test_export_job_keeps_the_token_not_the_number(person, client_as, settings, tmp_path):
    settings.EXPORT_SYNC_MAX_ROWS = 0
    settings.JOBS_ROOT = tmp_path
    client = client_as("village_dispatcher")
    client.post(reverse("registry:person_search"), {"value": ID, "reason": "导出"})
    token = privacy_models.ExactSearch.objects.get().token.hex
    response = client.get(reverse("jobs:export", args=["people"]), {"format": "csv", "search": token})
    assert response.status_code == 302
    job = Job.objects.latest("pk")
    assert job.params["filters"] == {"search": token} and ID not in str(job.params)


def test_a_user_with_the_permission_needs_no_reason(person, api_as):
    assert User.objects.get(username="village_dispatcher").has_perm("privacy.reveal_personal_data")
    response = api_as("village_dispatcher").post(SEARCH, {"value": ID})
    assert response.status_code == 200 and response.json()["count"] == 1
    assert PersonalDataAccess.objects.get().reason
