"""Readings → cases: alarms open one case per open alarm, repeats and bad messages change nothing."""

import pytest
from django.core.exceptions import ValidationError

from wangge.cases.models import Case, CaseEvent, Channel, Status
from wangge.history.models import ChangeRecord
from wangge.sensors import actions
from wangge.sensors.models import Direction, Reading, Sensor


def test_a_sensor_is_placed_in_its_grid_and_recorded(sensor):
    s = sensor()
    assert s.area.code == "441900122002001" and s.area_path.endswith("441900122002001/")
    assert ChangeRecord.objects.filter(object_id=str(s.pk)).exists()


def test_a_sensor_outside_the_city_is_refused(sensor):
    with pytest.raises(ValidationError) as exc:
        sensor(code="far", lat=39.9, lng=116.4)
    assert "lat" in exc.value.message_dict


def test_a_reading_below_the_threshold_is_kept_and_opens_nothing(sensor):
    sensor()
    received = actions.record_reading("mh-001", "m1", 3.5)
    assert received.new and received.case is None and not received.reading.is_alarm
    assert not Case.objects.filter(channel=Channel.SENSOR).exists()


def test_an_alarm_opens_a_case_through_the_cases_intake(sensor):
    sensor()
    received = actions.record_reading("mh-001", "m2", 31.0, "2026-05-01T08:30:00+08:00")
    case = received.case
    assert received.new_case and case.channel == Channel.SENSOR and case.status == Status.REPORTED
    assert case.area.code == "441900122002001" and case.matter_item.code == "manhole"
    assert "mh-001" in case.description and "31" in case.description
    assert case.idempotency_key == "system:sensor:mh-001:m2"
    assert CaseEvent.objects.filter(case=case, action="report").count() == 1
    assert Reading.objects.get(message_id="m2").case == case


def test_the_same_message_twice_changes_nothing(sensor):
    sensor()
    first = actions.record_reading("mh-001", "m3", 40)
    again = actions.record_reading("mh-001", "m3", 40)
    assert not again.new and again.case == first.case
    assert Reading.objects.count() == 1 and Case.objects.filter(channel=Channel.SENSOR).count() == 1


def test_further_alarms_join_the_open_case_until_it_closes(sensor, user):
    sensor()
    first = actions.record_reading("mh-001", "a1", 40).case
    second = actions.record_reading("mh-001", "a2", 45)
    assert not second.new_case and second.case == first
    assert Case.objects.filter(channel=Channel.SENSOR).count() == 1
    Case.objects.filter(pk=first.pk).update(status=Status.CLOSED)
    third = actions.record_reading("mh-001", "a3", 50)
    assert third.new_case and third.case != first


def test_alarms_of_two_sensors_are_two_cases(sensor):
    sensor()
    sensor(code="mh-002")
    assert actions.record_reading("mh-001", "x", 40).case != actions.record_reading("mh-002", "x", 40).case


def test_a_below_threshold_sensor_alarms_low_values(sensor):
    sensor(code="river-1", threshold=0.5, direction=Direction.BELOW)
    assert actions.record_reading("river-1", "r1", 0.9).case is None
    assert actions.record_reading("river-1", "r2", 0.2).case is not None


@pytest.mark.parametrize(
    ("code", "message_id", "value", "at", "field"),
    [
        ("nobody", "m", 1, None, "sensor"),
        ("mh-001", "", 1, None, "id"),
        ("mh-001", "m", "hot", None, "value"),
        ("mh-001", "m", float("nan"), None, "value"),
        ("mh-001", "m", 1, "yesterday", "at"),
        ("mh-001", "m", True, None, "value"),
        ("mh-001", "m", "12", None, "value"),
        ("mh-001", "m", float("inf"), None, "value"),
        ("mh-001", "m", 2e9, None, "value"),  # beyond SENSOR_VALUE_LIMIT
        ("mh-001", "m", 1, "2099-05-01T08:30:00+08:00", "at"),  # made a dead sensor look alive until 2099
        ("mh-001", "m", 1, 1714523400, "at"),
        ("mh-001", True, 1, None, "id"),
    ],
)
def test_bad_readings_name_the_field(sensor, code, message_id, value, at, field):
    sensor()
    with pytest.raises(ValidationError) as exc:
        actions.record_reading(code, message_id, value, at)
    assert field in exc.value.message_dict
    assert not Reading.objects.exists()


def test_a_time_a_little_ahead_is_taken_and_the_sensors_own_range_is_kept(sensor, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SENSOR_CLOCK_SKEW_SECONDS = 300
    sensor(valid_min=0, valid_max=90)
    assert actions.record_reading("mh-001", "m1", 3, timezone.now() + timedelta(seconds=200)).new
    with pytest.raises(ValidationError) as exc:
        actions.record_reading("mh-001", "m2", 3, timezone.now() + timedelta(seconds=400))
    assert "at" in exc.value.message_dict
    for bad in (-1, 91):
        with pytest.raises(ValidationError) as exc:
            actions.record_reading("mh-001", f"m{bad}", bad)
        assert "value" in exc.value.message_dict
    assert actions.record_reading("mh-001", "m3", 90).new
    assert Reading.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"id": "h", "value": True}, 422, "value"),
        ({"id": "h", "value": "12"}, 422, "value"),
        ({"id": "h", "value": 1, "seq": -3}, 422, "seq"),
        ({"id": "h", "value": 1, "at": "2099-01-01T00:00:00+08:00"}, 400, "at"),
        ({"id": "h", "value": 2e9}, 400, "value"),
    ],
)
def test_the_api_refuses_a_bad_reading_naming_the_field(sensor, api_as, body, status, field):
    sensor()
    r = api_as("admin").post("/api/v1/sensors/mh-001/readings", body)
    assert r.status_code == status, r.content
    assert field in r.content.decode() and not Reading.objects.exists()


def test_an_inactive_sensor_is_unknown(sensor):
    s = sensor()
    Sensor.objects.filter(pk=s.pk).update(is_active=False)
    with pytest.raises(ValidationError):
        actions.record_reading("mh-001", "m", 99)


def test_api_lists_sensors_in_scope_and_takes_readings_from_an_admin(sensor, api_as):
    sensor()
    assert [s["code"] for s in api_as("village_dispatcher").get("/api/v1/sensors").json()] == ["mh-001"]
    assert api_as("liaobu_dispatcher").get("/api/v1/sensors/mh-001/readings").status_code == 404
    assert api_as("grid_manager2").get("/api/v1/sensors/mh-001/readings").status_code == 403  # no sensor pages
    assert (
        api_as("village_dispatcher").post("/api/v1/sensors/mh-001/readings", {"id": "h1", "value": 2}).status_code
        == 403
    )
    admin = api_as("admin")
    r = admin.post("/api/v1/sensors/mh-001/readings", {"id": "h1", "value": 99})
    assert r.status_code == 201 and r.json()["new_case"] and r.json()["case"]
    again = admin.post("/api/v1/sensors/mh-001/readings", {"id": "h1", "value": 99})
    assert again.status_code == 200 and not again.json()["new"] and again.json()["case"] == r.json()["case"]
    bad = admin.post("/api/v1/sensors/mh-001/readings", {"id": "h2", "value": "hot"})
    assert bad.status_code in (400, 422)
    readings = admin.get("/api/v1/sensors/mh-001/readings").json()
    assert [x["message_id"] for x in readings] == ["h1"] and readings[0]["is_alarm"]


def test_admin_places_a_new_sensor(client_as, db):
    from wangge.areas.models import Area
    from wangge.cases.models import MatterItem

    area = Area.objects.get(code="441900122002001")
    page = client_as("admin").post(
        "/admin/sensors/sensor/add/",
        {
            "code": "smoke-9",
            "name": "出租屋烟感",
            "kind": "smoke",
            "lat": area.centroid_lat,
            "lng": area.centroid_lng,
            "matter_item": MatterItem.objects.get(code="rental_safety").pk,
            "metric": "obs%",
            "threshold": 10,
            "direction": "above",
            "is_active": "on",
            "readings-TOTAL_FORMS": 0,
            "readings-INITIAL_FORMS": 0,
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    assert Sensor.objects.get(code="smoke-9").area == area
    outside = client_as("admin").post(
        "/admin/sensors/sensor/add/",
        {
            "code": "x",
            "name": "x",
            "kind": "smoke",
            "lat": 39.9,
            "lng": 116.4,
            "threshold": 1,
            "direction": "above",
            "matter_item": MatterItem.objects.get(code="rental_safety").pk,
            "readings-TOTAL_FORMS": 0,
            "readings-INITIAL_FORMS": 0,
        },
    )
    assert outside.status_code == 200 and not Sensor.objects.filter(code="x").exists()
