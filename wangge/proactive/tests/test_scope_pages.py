"""Who may act and see, per role; the pages in Chinese."""

import re

import pytest

from wangge.areas.models import Area
from wangge.proactive import actions
from wangge.proactive.models import ProactiveWork, SpotRule

from .zh import english_in

pytestmark = pytest.mark.django_db

# Who may turn a spot in village A's first grid into work over the API, and the answer.
ACT = [
    ("village_dispatcher", 201),
    ("town_dispatcher", 201),
    ("city_dispatcher", 201),
    ("admin", 201),  # the superuser
    ("liaobu_dispatcher", 404),  # another town's: the place is outside their areas
    ("leader", 403),
    ("grid_manager", 403),
    ("fire_handler", 403),
    ("hotline", 403),
    ("landlord", 403),
    ("citizen", 403),
]


@pytest.mark.parametrize("username, status", ACT)
def test_only_the_dispatchers_of_the_spots_area_act(spot, api_as, username, status):
    lat, lng, category, _ids = spot(3)
    response = api_as(username).post(
        "/api/v1/proactive", {"category": category, "lat": lat, "lng": lng, "kind": "case"}
    )
    assert response.status_code == status, response.content
    assert ProactiveWork.objects.count() == (1 if status == 201 else 0)


def test_anonymous_is_refused(spot, api_as):
    lat, lng, category, _ids = spot(3)
    assert api_as(None).post("/api/v1/proactive", {"category": category, "lat": lat, "lng": lng}).status_code == 401


@pytest.mark.parametrize(
    "username, listed, status",
    [
        ("village_dispatcher", 1, 200),
        ("town_dispatcher", 1, 200),
        ("leader", 1, 200),  # sees, does not act
        ("liaobu_dispatcher", 0, 200),
        ("grid_manager", None, 403),
        ("citizen", None, 403),
    ],
)
def test_the_list_and_a_work_are_seen_within_the_command_areas(spot, user, api_as, username, listed, status):
    lat, lng, category, _ids = spot(3)
    work = actions.act_on_spot(user("village_dispatcher"), category=category, lat=lat, lng=lng, kind="case")
    api = api_as(username)
    response = api.get("/api/v1/proactive")
    assert response.status_code == status
    if listed is not None:
        assert response.json()["count"] == listed
        assert api.get(f"/api/v1/proactive/{work.pk}").status_code == (200 if listed else 404)
    else:
        assert api.get(f"/api/v1/proactive/{work.pk}").status_code == 403
    assert api_as("liaobu_dispatcher").get("/api/v1/proactive", area="441900122").status_code == 404


def test_the_spots_page_offers_the_act_and_then_shows_the_work_in_chinese(spot, client_as):
    lat, lng, category, _ids = spot(3)
    client = client_as("village_dispatcher")
    page = client.get("/command/spots/").content.decode()
    assert "转为主动办理" in page and 'action="/command/spots/act/"' in page
    assert english_in(page) == []
    form = {"category": category, "lat": lat, "lng": lng, "radius_m": 100, "days": 30, "kind": "case", "note": "先清理"}
    response = client.post("/command/spots/act/", form)
    assert response.status_code == 302 and response["Location"].startswith("/command/proactive/")
    work = ProactiveWork.objects.get()
    listing = client.get(response["Location"]).content.decode()
    assert work.case.number in listing and f'id="work-{work.pk}"' in listing
    assert "主动办理" in listing and english_in(listing) == []
    spots = client.get("/command/spots/").content.decode()
    assert f"/cases/{work.case.pk}/" in spots and "转为主动办理" not in re.sub(r"<h1.*?</h1>", "", spots)
    assert english_in(spots) == []
    # The same spot again from the page: back to the existing work with a warning, nothing new.
    again = client.post("/command/spots/act/", form, follow=True)
    assert ProactiveWork.objects.count() == 1 and "已在办理" in again.content.decode()
    # Bad input: back to the spots page naming the problem.
    bad = client.post("/command/spots/act/", {**form, "category": "event:9999"}, follow=True).content.decode()
    assert "9999" in bad and ProactiveWork.objects.count() == 1


def test_the_spot_check_and_the_filters_in_chinese(spot, user, client_as):
    lat, lng, category, _ids = spot(3)
    actions.act_on_spot(user("town_dispatcher"), category=category, lat=lat, lng=lng, kind="task")
    SpotRule.objects.create(name="厚街占道经营", area=Area.objects.get(code="441900122"), min_cases=4, kind="task")
    SpotRule.objects.create(name="寮步规则", area=Area.objects.get(code="441900111"))
    client = client_as("town_dispatcher")
    rules = client.get("/command/proactive/").content.decode()
    assert "厚街占道经营" in rules and "寮步规则" not in rules and "网格员现场核查" in rules
    for query in ("", "?kind=task&state=open", "?kind=case", "?state=done"):
        page = client.get("/command/proactive/" + query).content.decode()
        assert english_in(page) == [], query
    assert "现场核查" in client.get("/command/proactive/?kind=task").content.decode()
    tasks = client_as("grid_manager").get("/patrol/tasks/").content.decode()
    assert "现场核查" in tasks and english_in(tasks) == []
    assert client_as("grid_manager").get("/command/proactive/").status_code == 403
    assert client_as("liaobu_dispatcher").get("/command/proactive/?area=441900122").status_code == 404
    form = {"category": category, "lat": lat, "lng": lng, "kind": "case"}
    assert client_as("leader").post("/command/spots/act/", form).status_code == 403
    assert client_as("grid_manager").post("/command/spots/act/", form).status_code == 403
    assert client_as("liaobu_dispatcher").post("/command/spots/act/", form).status_code == 404
    assert client_as("liaobu_dispatcher").post("/command/spots/act/", {**form, "area": "441900122"}).status_code == 404
    # The leader sees the spots and their work, without the form.
    seen = client_as("leader").get("/command/spots/").content.decode()
    assert "现场核查" in seen and "转为主动办理" not in seen
    assert not ProactiveWork.objects.filter(created_by__username="leader").exists()
