"""Positions from the mobile app, tracks for supervisors, jurisdiction per role."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from wangge.patrol.models import TrackDay, WorkerPosition
from wangge.patrol.queries import assigned_grid


def day_ago(days=2):
    return timezone.localdate() - timedelta(days=days)


def batch_inside(worker, day, n=10, *, start=time(10), accuracy=12.0):
    """n points 30 s apart walking north from a point inside the worker's grid."""
    here = assigned_grid(worker).representative_point()
    t0 = timezone.make_aware(datetime.combine(day, start))
    return {
        "points": [
            {
                "at": (t0 + timedelta(seconds=30 * i)).isoformat(),
                "lat": here.y + i * 1e-5,
                "lng": here.x,
                "accuracy_m": accuracy,
            }
            for i in range(n)
        ]
    }


@pytest.mark.django_db
def test_worker_sends_a_batch_twice_and_it_is_stored_once(api_as, user):
    worker = user("grid_manager")
    api = api_as("grid_manager")
    day = day_ago()
    payload = batch_inside(worker, day)
    first = api.post("/api/v1/patrol/positions", payload)
    assert first.status_code == 200, first.content
    assert first.json() == {"accepted": 10, "duplicates": 0, "flagged": 0}
    again = api.post("/api/v1/patrol/positions", payload)
    assert again.json() == {"accepted": 0, "duplicates": 10, "flagged": 0}
    track = TrackDay.objects.get(worker=worker, day=day)
    assert track.point_count == 10 and len(bytes(track.points)) == 10 * 14
    assert track.seconds_on_duty == 270 and track.seconds_in_grid == 270
    assert 9 < track.distance_m < 12
    assert track.buildings_passed == 0  # the test city has no registered buildings here


@pytest.mark.django_db
def test_buildings_passed_on_the_walk(api_as, user, make_building):
    worker = user("grid_manager")
    building = make_building()  # at the grid's representative point, where batch_inside starts
    api_as("grid_manager").post("/api/v1/patrol/positions", batch_inside(worker, day_ago(6)))
    assert TrackDay.objects.get(worker=worker, day=day_ago(6)).buildings_passed == 1
    assert building.lat == pytest.approx(assigned_grid(worker).representative_point().y)


@pytest.mark.django_db
def test_poor_accuracy_is_kept_and_flagged_never_invented(api_as, user):
    worker = user("grid_manager")
    payload = batch_inside(worker, day_ago(3), n=4, accuracy=300)
    payload["points"][0].pop("accuracy_m")
    response = api_as("grid_manager").post("/api/v1/patrol/positions", payload)
    assert response.json() == {"accepted": 4, "duplicates": 0, "flagged": 4}
    track = TrackDay.objects.get(worker=worker, day=day_ago(3))
    assert track.flagged_count == 4 and track.distance_m == 0 and track.seconds_in_grid == 0
    assert track.seconds_on_duty == 90


@pytest.mark.django_db
def test_a_bad_point_rejects_the_batch_naming_each_point(api_as, user):
    worker = user("grid_manager")
    payload = batch_inside(worker, day_ago(), n=3, start=time(15))
    payload["points"][1]["at"] = (timezone.now() + timedelta(hours=2)).isoformat()
    payload["points"][2]["lat"] = 123.0
    response = api_as("grid_manager").post("/api/v1/patrol/positions", payload)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"points.1.at", "points.2.lat"}
    assert "时钟" in errors["points.1.at"][0]  # check the phone's clock (zh-hans by default)
    assert not TrackDay.objects.filter(worker=worker, day=day_ago()).exists()
    naive = {"points": [{"at": "2026-01-01T10:00:00", "lat": 22.9, "lng": 113.6}]}
    assert api_as("grid_manager").post("/api/v1/patrol/positions", naive).status_code == 400
    missing = {"points": [{"at": timezone.now().isoformat(), "lng": 113.6}]}
    assert api_as("grid_manager").post("/api/v1/patrol/positions", missing).status_code == 422


@pytest.mark.django_db
def test_only_field_workers_send_positions(api_as, user):
    payload = batch_inside(user("grid_manager"), day_ago(), n=1)
    assert api_as("village_dispatcher").post("/api/v1/patrol/positions", payload).status_code == 403


@pytest.mark.django_db
def test_a_late_old_batch_does_not_move_the_worker_back(api_as, user):
    worker = user("grid_manager")
    api = api_as("grid_manager")
    api.post("/api/v1/patrol/positions", batch_inside(worker, day_ago(1), n=2))
    newest = WorkerPosition.objects.get(worker=worker).at
    api.post("/api/v1/patrol/positions", batch_inside(worker, day_ago(4), n=2))
    assert WorkerPosition.objects.get(worker=worker).at == newest
    assert WorkerPosition.objects.get(worker=worker).area_path.startswith(worker.memberships.get().area.path)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "viewer, sees_own_village, sees_other_village",
    [
        ("village_dispatcher", True, False),
        ("town_dispatcher", True, True),
        ("leader", True, True),
        ("grid_manager2", False, True),  # a worker sees only their own track
        ("liaobu_dispatcher", False, False),
        ("fire_handler", False, False),
    ],
)
def test_tracks_are_seen_only_inside_the_jurisdiction(api_as, client_as, viewer, sees_own_village, sees_other_village):
    day = day_ago(0).isoformat()
    api = api_as(viewer)
    for worker, expected in (("grid_manager", sees_own_village), ("grid_manager2", sees_other_village)):
        assert api.get(f"/api/v1/patrol/tracks/{worker}/{day}").status_code == (200 if expected else 404)
        page = client_as(viewer).get(f"/patrol/tracks/{worker}/{day}/")
        assert page.status_code == (200 if expected else 404)
    listed = client_as(viewer).get("/patrol/tracks/").content.decode()
    assert ('data-worker="grid_manager"' in listed) == sees_own_village
    assert ('data-worker="grid_manager2"' in listed) == sees_other_village
    positions = {p["username"] for p in api.get("/api/v1/patrol/positions").json()}
    assert ("grid_manager" in positions) == sees_own_village


@pytest.mark.django_db
def test_track_data_for_playback(api_as, user):
    worker = user("grid_manager")
    api_as("grid_manager").post("/api/v1/patrol/positions", batch_inside(worker, day_ago(5), n=3))
    data = api_as("village_dispatcher").get(f"/api/v1/patrol/tracks/grid_manager/{day_ago(5).isoformat()}").json()
    assert len(data["points"]) == 3 and data["points"][0][4] is True
    assert data["points"][0][0].startswith(day_ago(5).isoformat() + "T10:00:00")
    assert data["figures"]["points"] == 3 and data["grids"]["features"]


@pytest.mark.django_db
def test_a_new_position_is_published_to_the_workers_supervisors(
    api_as, user, settings, django_capture_on_commit_callbacks
):
    from wangge.insight import access, live

    settings.LIVE_BROKER = "memory"
    live.broker.cache_clear()
    try:
        broker = live.broker()
        head = broker.head()
        worker = user("grid_manager")
        recent = timezone.localtime() - timedelta(minutes=2)  # newer than the demo walk
        with django_capture_on_commit_callbacks(execute=True):
            api_as("grid_manager").post(
                "/api/v1/patrol/positions", batch_inside(worker, recent.date(), n=2, start=recent.time())
            )
        events, _gap = broker.read(head, timeout=1)
        message = next(m for _id, m in events if m["type"] == "worker.position")
        assert message["username"] == "grid_manager"
        assert access.can_see_message(user("village_dispatcher"), message)
        assert not access.can_see_message(user("liaobu_dispatcher"), message)
    finally:
        live.broker.cache_clear()


@pytest.mark.django_db
def test_a_building_registered_after_the_first_batch_counts_on_the_next(api_as, user, make_building):
    """The city's building points are kept per process: a new building is seen at once here, and
    by the other processes when their copy's version check sees the table move on."""
    from wangge.patrol import queries
    from wangge.registry.models import Building

    worker = user("grid_manager")
    api = api_as("grid_manager")
    api.post("/api/v1/patrol/positions", batch_inside(worker, day_ago(2), n=3))
    assert TrackDay.objects.get(worker=worker, day=day_ago(2)).buildings_passed == 0
    building = make_building()
    api.post("/api/v1/patrol/positions", batch_inside(worker, day_ago(2), n=3, start=time(11)))
    assert TrackDay.objects.get(worker=worker, day=day_ago(2)).buildings_passed == 1
    # A bulk import sends no signal: the version (count, last id, last change) still moves on.
    copy = {**_fields(building), "code": building.code + "X", "qr_token": building.qr_token + "X"}
    Building.objects.bulk_create([Building(**copy)])
    queries._buildings._checked_at = 0  # as if the check interval had passed
    lats, _lngs = queries.building_points().in_box(building.lat, -180, building.lat, 180)
    assert len(lats) == 2


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if not f.primary_key}


@pytest.mark.django_db
def test_a_batch_needs_no_query_for_memberships_grid_or_buildings(api_as, user, django_assert_max_num_queries):
    """With the worker's token cached (memberships prefetched), a batch reads only the day's row and
    writes it and the last position."""
    worker = user("grid_manager")
    api = api_as("grid_manager")
    api.post("/api/v1/patrol/positions", batch_inside(worker, day_ago(3), n=2))
    batch = batch_inside(worker, day_ago(3), n=2, start=time(12))
    with django_assert_max_num_queries(6) as captured:  # + the savepoints of a test, a check of the position
        response = api.post("/api/v1/patrol/positions", batch)
    assert response.json()["accepted"] == 2
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert "accounts_membership" not in tables and "registry_building" not in tables
    assert "areas_area" not in tables


@pytest.mark.django_db
def test_a_phone_catching_up_moves_its_dot_at_most_every_few_seconds(
    api_as, user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from wangge.insight import live
    from wangge.patrol import actions

    settings.LIVE_BROKER = "memory"
    live.broker.cache_clear()
    monkeypatch.setattr(actions, "_published_at", {})
    clock = [1000.0]
    monkeypatch.setattr(actions, "monotonic", lambda: clock[0])
    worker = user("grid_manager")
    WorkerPosition.objects.filter(worker=worker).delete()  # not behind the demo walk's last position
    api = api_as("grid_manager")
    hour_ago = timezone.localtime() - timedelta(hours=1)

    def send(start):
        head = live.broker().head()
        with django_capture_on_commit_callbacks(execute=True):
            api.post("/api/v1/patrol/positions", batch_inside(worker, start.date(), n=2, start=start.time()))
        events, _gap = live.broker().read(head, timeout=0)
        return [m for _id, m in events if m["type"] == "worker.position"]

    try:
        assert len(send(hour_ago)) == 1  # old points: the first batch moves the dot
        assert send(hour_ago + timedelta(minutes=5)) == []  # the next, at once, does not
        clock[0] += settings.PATROL_LIVE_POSITION_SECONDS
        assert len(send(hour_ago + timedelta(minutes=10))) == 1  # after the interval it does
        (event,) = send(timezone.localtime() - timedelta(minutes=1))  # the present always goes out
        assert timezone.localtime(WorkerPosition.objects.get(worker=worker).at).isoformat() == event["at"]
    finally:
        live.broker.cache_clear()
