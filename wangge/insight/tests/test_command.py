"""The command map's API and dispatch board: viewport per role, clustering, queue order, one-click
dispatch and escalate through the cases transition, recurring spots."""

import pytest
from django.utils import timezone

from wangge.cases.models import Case, Status
from wangge.insight import queries

from .conftest import VILLAGE_B_GRID, point_in

pytestmark = pytest.mark.django_db
TOWN_BBOX = "113.5,22.6,114.3,23.2"  # wide enough for the whole test city


@pytest.fixture
def two_villages(new_case):
    return new_case(matter_item="fire_exit"), new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)


@pytest.mark.parametrize(
    "username,sees_a,sees_b",
    [
        ("village_dispatcher", True, False),
        ("town_dispatcher", True, True),
        ("liaobu_dispatcher", False, False),
        ("city_dispatcher", True, True),
        ("grid_manager2", False, True),  # its own report
        ("citizen", False, False),
    ],
)
def test_viewport_per_role(two_villages, api_as, username, sees_a, sees_b):
    a, b = two_villages
    data = api_as(username).get("/api/v1/insight/cases", bbox=TOWN_BBOX).json()
    ids = {p["id"] for p in data["points"]}
    assert (a.pk in ids, b.pk in ids) == (sees_a, sees_b)


def test_viewport_filters_and_errors(two_villages, api_as):
    a, b = two_villages
    api = api_as("town_dispatcher")
    lat, lng = point_in("441900122002001")
    small = f"{lng - 0.001},{lat - 0.001},{lng + 0.001},{lat + 0.001}"
    assert {p["id"] for p in api.get("/api/v1/insight/cases", bbox=small).json()["points"]} == {a.pk}
    assert api.get("/api/v1/insight/cases", bbox=TOWN_BBOX, category="part:0113").json()["count"] == 1
    assert api.get("/api/v1/insight/cases", bbox=TOWN_BBOX, status="closed").json()["count"] == 0
    assert api.get("/api/v1/insight/cases", bbox=TOWN_BBOX, area="441900122003").json()["count"] == 1
    for bad in ["1,2,3", "114,23,113,22", "a,b,c,d", "200,1,201,2"]:
        response = api.get("/api/v1/insight/cases", bbox=bad)
        assert response.status_code == 400 and "bbox" in response.json()["errors"], bad
    assert api.get("/api/v1/insight/cases", bbox=TOWN_BBOX, status="nonsense").status_code == 400
    assert api.get("/api/v1/insight/cases").status_code == 422  # bbox missing
    assert (
        api_as("village_dispatcher").get("/api/v1/insight/cases", bbox=TOWN_BBOX, area="441900122003").status_code
        == 404
    )


def test_many_cases_come_back_as_cells(two_villages, new_case, user):
    new_case(grid="441900122002002")
    data = queries.viewport(user("town_dispatcher"), TOWN_BBOX, limit=2)
    assert data["kind"] == "cells" and data["count"] == 3 and sum(c["n"] for c in data["cells"]) == 3


def test_board_counts_and_puts_overdue_then_due_soon_first(two_villages, new_case, user):
    a, b = two_villages
    late = new_case(description="最早超期")
    Case.objects.filter(pk=late.pk).update(is_overdue=True)
    Case.objects.filter(pk=b.pk).update(dispatch_deadline=timezone.now() + timezone.timedelta(minutes=30))
    Case.objects.filter(pk=a.pk).update(dispatch_deadline=timezone.now() + timezone.timedelta(days=2))
    board = queries.board(user("town_dispatcher"))
    assert [c.pk for c in board["cases"]][:3] == [late.pk, b.pk, a.pk]
    assert board["overdue"] == 1 and board["due_soon"] == 1 and board["open"] == 3
    assert dict((s, n) for s, _label, n in board["states"])[Status.REPORTED] == 3
    village = queries.board(user("village_dispatcher"))
    assert b.pk not in [c.pk for c in village["cases"]]


def test_one_click_dispatch_to_the_suggested_department(two_villages, client_as):
    a, _b = two_villages
    client = client_as("village_dispatcher")
    panel = client.get(f"/command/cases/{a.pk}/").content.decode()
    assert 'data-action="dispatch-suggested"' in panel and "消防" in panel
    response = client.post(
        f"/command/cases/{a.pk}/act/", {"action": "dispatch", "version": a.version, "departments": "fire"}
    )
    assert response.status_code == 200 and 'data-status="handling"' in response.content.decode()
    assert Case.objects.get(pk=a.pk).assignments.get().department.code == "fire"
    stale = client.post(f"/command/cases/{a.pk}/act/", {"action": "escalate", "version": a.version})
    assert stale.status_code == 409
    escalated = client.post(f"/command/cases/{a.pk}/act/", {"action": "escalate", "version": a.version + 1})
    assert escalated.status_code == 200 and Case.objects.get(pk=a.pk).command_level == "town"
    other = client.post(f"/command/cases/{a.pk}/act/", {"action": "close", "version": a.version + 2})
    assert other.status_code == 400


def test_command_pages_are_for_commanders_only(two_villages, client_as):
    a, b = two_villages
    for username in ["grid_manager", "fire_handler", "citizen"]:
        client = client_as(username)
        assert client.get("/command/").status_code == 403
        # 404 for staff; the portal's users (citizen) reach no staff page at all (403)
        assert client.get(f"/command/cases/{a.pk}/").status_code == (403 if username == "citizen" else 404)
    village = client_as("village_dispatcher")
    assert village.get(f"/command/cases/{b.pk}/").status_code == 404
    assert village.get("/command/", {"area": "441900122003"}).status_code == 404
    page = village.get("/command/").content.decode()
    assert 'href="/command/"' in page and 'href="/stats/"' in page
    assert 'href="/command/"' not in client_as("grid_manager").get("/").content.decode()


def test_recurring_spots(user, api_as, client_as):
    lat, lng = point_in("441900122002001")
    from wangge.cases import actions

    made = []
    for i in range(3):  # three fire-exit cases within a few tens of metres
        report = actions.Report(
            description=f"消防通道堵塞 {i}",
            channel="grid_manager",
            lat=lat + i * 0.0002,
            lng=lng,
            matter_item="fire_exit",
        )
        made.append(actions.report_case(report, user("grid_manager"))[0].pk)
    far = actions.Report(description="远处", channel="grid_manager", lat=lat + 0.01, lng=lng, matter_item="fire_exit")
    actions.report_case(far, user("grid_manager"))
    spots = queries.recurring_spots(user("town_dispatcher"))
    assert len(spots) == 1 and spots[0]["count"] == 3 and spots[0]["case_ids"] == sorted(made)
    assert queries.recurring_spots(user("town_dispatcher"), min_cases=4) == []
    assert queries.recurring_spots(user("liaobu_dispatcher")) == []
    data = api_as("village_dispatcher").get("/api/v1/insight/spots").json()
    assert data["spots"][0]["count"] == 3
    page = client_as("village_dispatcher").get("/command/spots/").content.decode()
    assert 'data-count="3"' in page
