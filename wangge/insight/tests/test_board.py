"""The dispatch board's case: nearest on-duty field workers, the suggested department, the flagged
duplicate and merging it from the board (page and API), through the cases transition action."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.cases.models import Case, Status
from wangge.insight import queries
from wangge.patrol.models import WorkerPosition

from .conftest import VILLAGE_B_GRID

pytestmark = pytest.mark.django_db


def put(user, lat, lng, minutes_ago=1):
    WorkerPosition.objects.update_or_create(
        worker=user, defaults={"lat": lat, "lng": lng, "at": timezone.now() - timedelta(minutes=minutes_ago)}
    )


@pytest.fixture
def duplicate_pair(new_case):
    first = new_case(matter_item="fire_exit")
    second = new_case(matter_item="fire_exit", description="又见消防通道堵塞")
    assert second.duplicate_of_id == first.pk  # flagged at intake: same category, same place
    return first, second


def test_nearest_on_duty_workers_by_distance(new_case, user):
    case = new_case()
    near, far = user("grid_manager"), user("grid_manager2")
    put(near, case.lat + 0.001, case.lng)  # ~111 m
    put(far, case.lat + 0.02, case.lng)  # ~2.2 km
    got = queries.nearest_workers(user("town_dispatcher"), case)
    assert [w["username"] for w in got] == ["grid_manager", "grid_manager2"]
    assert 100 < got[0]["distance_m"] < 125 and 2150 < got[1]["distance_m"] < 2300 and got[1]["km"] == 2.2
    # only the workers the user supervises: the village dispatcher does not get the next village's
    assert [w["username"] for w in queries.nearest_workers(user("village_dispatcher"), case)] == ["grid_manager"]
    put(near, case.lat + 0.001, case.lng, minutes_ago=60)  # off duty: heard from an hour ago
    assert [w["username"] for w in queries.nearest_workers(user("town_dispatcher"), case)] == ["grid_manager2"]
    Case.objects.filter(pk=case.pk).update(lat=None, lng=None)
    case.refresh_from_db()
    assert queries.nearest_workers(user("town_dispatcher"), case) == []


def test_panel_shows_nearest_workers_suggested_department_and_duplicate(duplicate_pair, client_as, user):
    first, second = duplicate_pair
    put(user("grid_manager"), second.lat + 0.0005, second.lng)
    client = client_as("village_dispatcher")
    board = client.get("/command/board/").content.decode()
    assert board.count('class="badge amber duplicate"') == 1
    panel = client.get(f"/command/cases/{second.pk}/").content.decode()
    assert 'data-worker="grid_manager"' in panel and "消防" in panel
    assert f'data-duplicate-of="{first.pk}"' in panel and 'data-action="merge-duplicate"' in panel
    assert 'data-duplicate-of="' not in client.get(f"/command/cases/{first.pk}/").content.decode()


def test_merge_from_the_board(duplicate_pair, client_as):
    first, second = duplicate_pair
    client = client_as("village_dispatcher")
    url = f"/command/cases/{second.pk}/act/"
    stale = client.post(url, {"action": "merge", "version": second.version - 1, "into": first.pk, "note": "重复"})
    assert stale.status_code == 409
    missing = client.post(url, {"action": "merge", "version": second.version, "into": "20990101999999"})
    assert missing.status_code == 400 and "20990101999999" in missing.content.decode()
    empty = client.post(url, {"action": "merge", "version": second.version, "into": ""})
    assert empty.status_code == 400
    response = client.post(url, {"action": "merge", "version": second.version, "into": first.pk, "note": "重复"})
    assert response.status_code == 200 and 'data-status="merged"' in response.content.decode()
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into_id == first.pk
    assert second.events.filter(action="merge").exists()
    board = client.get("/command/board/").content.decode()
    assert f'data-case-id="{second.pk}"' not in board and f'data-case-id="{first.pk}"' in board


def test_merge_by_number_only_into_a_visible_case(new_case, client_as):
    mine = new_case()
    other = new_case(description="另一件")
    theirs = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    client = client_as("village_dispatcher")
    refused = client.post(
        f"/command/cases/{other.pk}/act/", {"action": "merge", "version": other.version, "into": theirs.number}
    )
    assert refused.status_code == 400
    done = client.post(
        f"/command/cases/{other.pk}/act/",
        {"action": "merge", "version": other.version, "into": mine.number, "note": "重复"},
    )
    assert done.status_code == 200 and Case.objects.get(pk=other.pk).merged_into_id == mine.pk


def test_board_api(duplicate_pair, api_as, user, new_case):
    first, second = duplicate_pair
    theirs = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    put(user("grid_manager"), second.lat, second.lng + 0.001)
    api = api_as("village_dispatcher")
    board = api.get("/api/v1/insight/board").json()
    rows = {c["id"]: c for c in board["cases"]}
    assert set(rows) == {first.pk, second.pk} and board["open"] == 2
    assert rows[second.pk]["duplicate_of"] == first.pk and rows[first.pk]["duplicate_of"] is None
    assert rows[second.pk]["suggested_department"] == "fire"
    one = api.get(f"/api/v1/insight/board/{second.pk}").json()
    assert one["duplicate_of"]["id"] == first.pk and one["suggested_department"]["code"] == "fire"
    assert one["nearest_workers"][0]["username"] == "grid_manager" and one["nearest_workers"][0]["distance_m"] < 150
    assert {"dispatch", "escalate", "merge"} <= set(one["allowed_actions"])
    assert api.get(f"/api/v1/insight/board/{theirs.pk}").status_code == 404
    assert api_as("grid_manager").get(f"/api/v1/insight/board/{second.pk}").status_code == 404
    assert api.get("/api/v1/insight/board", area="441900122003").status_code == 404
    merged = api.post(
        f"/api/v1/cases/{second.pk}/transitions",
        {"action": "merge", "version": second.version, "into": first.pk, "note": "重复"},
    )
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert {c["id"] for c in api.get("/api/v1/insight/board").json()["cases"]} == {first.pk}
