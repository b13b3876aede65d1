"""/api/v1/summons: 400 naming the field, never a half-written summons; each role sees and does only
its own part (another town's dispatcher, a department not summoned, a non-member)."""

import pytest

from wangge.summons.models import Arrival, Summons

from .conftest import north

pytestmark = pytest.mark.django_db


def body(place, **fields):
    lat, lng = place
    return {"departments": ["fire"], "lat": lat, "lng": lng, "reason": "防汛巡查", "minutes": 30, **fields}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"departments": []}, "departments"),
        ({"departments": None}, "departments"),
        ({"arrive_by": "2020-01-01T08:00:00+08:00"}, "arrive_by"),
        ({"lat": "abc"}, "lat"),
        ({"lng": 500}, "lng"),
        ({"case": 2**70}, "case"),
    ],
)
def test_bad_input_is_400_naming_the_field(api_as, place, fields, field):
    response = api_as("village_dispatcher").post("/api/v1/summons", body(place, **fields))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Summons.objects.exists()


def test_summon_see_report_close(api_as, place, clock):
    dispatcher, fire = api_as("village_dispatcher"), api_as("fire_handler")
    response = dispatcher.post("/api/v1/summons", body(place))
    assert response.status_code == 201, response.content
    summons = response.json()
    assert [d["code"] for d in summons["departments"]] == ["fire"] and summons["status"] == "open"
    url = f"/api/v1/summons/{summons['id']}"

    assert [s["id"] for s in fire.get("/api/v1/summons").json()] == [summons["id"]]
    clock.shift(minutes=3)
    far = fire.post(f"{url}/arrivals", {"lat": north(*place, 900)[0], "lng": place[1], "accuracy": 12})
    assert far.status_code == 201 and far.json()["arrivals"][0]["flags"] == ["too_far"]
    assert far.json()["summons"]["departments"][0]["state"] == "waiting"
    poor = fire.post(f"{url}/arrivals", {"lat": place[0], "lng": place[1], "accuracy": 250})
    assert poor.json()["arrivals"][0]["flags"] == ["poor_fix"]
    none = fire.post(f"{url}/arrivals", {})
    assert none.json()["arrivals"][0]["flags"] == ["no_fix"]
    clock.shift(minutes=30)
    late = fire.post(f"{url}/arrivals", {"lat": place[0], "lng": place[1], "accuracy": 12})
    assert late.json()["arrivals"][0] == {**late.json()["arrivals"][0], "flags": ["late"], "counted": True}
    department = late.json()["summons"]["departments"][0]
    assert department["state"] == "late" and department["distance_m"] == 0
    assert fire.post(f"{url}/close").status_code == 403  # staff report; the dispatcher closes
    closed = dispatcher.post(f"{url}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert dispatcher.post(f"{url}/close").status_code == 400
    assert fire.post(f"{url}/arrivals", {}).status_code == 400  # closed: nothing more is recorded
    assert Arrival.objects.count() == 4


def test_each_role_sees_its_part(api_as, place, police_handler):
    from wangge.accounts.actions import issue_token
    from wangge.conftest import ApiClient

    summons = api_as("village_dispatcher").post("/api/v1/summons", body(place)).json()
    url = f"/api/v1/summons/{summons['id']}"
    for username in ("village_dispatcher", "town_dispatcher", "leader", "admin", "fire_handler"):
        assert api_as(username).get(url).status_code == 200, username
    police = ApiClient(issue_token(police_handler))
    others = (api_as("liaobu_dispatcher"), api_as("grid_manager"), api_as("grid_manager2"), police, api_as("citizen"))
    for client in others:
        assert client.get(url).status_code == 404
        assert client.get("/api/v1/summons").json() == []
        assert client.post(f"{url}/arrivals", {"lat": place[0], "lng": place[1], "accuracy": 5}).status_code == 404
        assert client.post(f"{url}/close").status_code == 404
    # Seen but not summoned: the dispatcher of the place cannot report an arrival for a department.
    response = api_as("village_dispatcher").post(f"{url}/arrivals", {"lat": place[0], "lng": place[1], "accuracy": 5})
    assert response.status_code == 403
    # Another town's dispatcher cannot summon here, nor for its own departments here.
    response = api_as("liaobu_dispatcher").post("/api/v1/summons", body(place))
    assert response.status_code == 400 and "lat" in response.json()["errors"]
    assert api_as("grid_manager").post("/api/v1/summons", body(place)).status_code == 403
    assert Arrival.objects.count() == 0 and Summons.objects.count() == 1


def test_department_staff_see_only_their_departments_summonses(api_as, place, police_handler):
    from wangge.accounts.actions import issue_token
    from wangge.conftest import ApiClient

    dispatcher = api_as("village_dispatcher")
    fire_only = dispatcher.post("/api/v1/summons", body(place)).json()
    police_only = dispatcher.post("/api/v1/summons", body(place, departments=["public_security"])).json()
    assert [s["id"] for s in api_as("fire_handler").get("/api/v1/summons").json()] == [fire_only["id"]]
    police = ApiClient(issue_token(police_handler))
    assert [s["id"] for s in police.get("/api/v1/summons").json()] == [police_only["id"]]
    assert api_as("fire_handler").get(f"/api/v1/summons/{police_only['id']}").status_code == 404
    listed = {s["id"] for s in dispatcher.get("/api/v1/summons").json()}
    assert listed == {fire_only["id"], police_only["id"]}


def test_numbers_beyond_a_float_are_400_not_500(api_as, place):
    for fields, field in (({"lat": 10**400}, "lat"), ({"minutes": 10**400}, "minutes")):
        response = api_as("village_dispatcher").post("/api/v1/summons", body(place, **fields))
        assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert not Summons.objects.exists()


def test_no_summons_to_a_closed_case(api_as, place, new_case):
    from wangge.cases.tests.conftest import act

    case = new_case()
    act(case, "village_dispatcher", "close", outcome="withdrawn", note="撤回")
    response = api_as("village_dispatcher").post("/api/v1/summons", body(place, case=case.pk))
    assert response.status_code == 400 and "case" in response.json()["errors"]


def test_a_grid_manager_who_also_handles_for_a_department_sees_only_its_summonses(api_as, place, user):
    from wangge.accounts import actions as account_actions
    from wangge.accounts.models import Department, Role

    assert api_as("village_dispatcher").post("/api/v1/summons", body(place)).status_code == 201
    manager = user("grid_manager")
    account_actions.add_membership(manager, Role.DEPARTMENT_HANDLER, department=Department.objects.get(code="water"))
    assert api_as("grid_manager").get("/api/v1/summons").json() == []  # the fire department was summoned, not water
