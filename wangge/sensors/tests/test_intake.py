"""The MQTT intake without a broker: a message is acknowledged only once its reading is stored,
transient database errors are retried (the broken connection closed first), an invalid message is
acknowledged and logged, a message still unstored when the intake stops is not acknowledged."""

import json
import threading

import paho.mqtt.client as mqtt
import pytest
from django.db import OperationalError, connection

from wangge.sensors import actions
from wangge.sensors import mqtt as intake_module
from wangge.sensors.models import Reading
from wangge.sensors.mqtt import MqttIntake

TOPIC = "wangge/sensors/+/readings"


class FakeClient:
    def __init__(self):
        self.acked = []

    def ack(self, mid, qos):
        self.acked.append((mid, qos, Reading.objects.filter(message_id=f"m{mid}").exists()))


def message(mid, payload, code="mh-001"):
    m = mqtt.MQTTMessage(mid=mid, topic=f"wangge/sensors/{code}/readings".encode())
    m.payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    m.qos = 1
    return m


@pytest.fixture(autouse=True)
def closed(monkeypatch):
    """The intake closes its connection after each message and each database error: here that is
    the test's own transaction, so count the closes instead."""
    calls = []
    monkeypatch.setattr(connection, "close", lambda: calls.append(1))
    monkeypatch.setattr(intake_module, "close_old_connections", lambda: None)
    return calls


@pytest.fixture
def flaky_database(monkeypatch):
    """record_reading fails as if the connection were dropped, `times` times, then works."""
    real, calls = actions.record_reading, {"failures": 0}

    def make(times):
        def record(*args, **kwargs):
            if calls["failures"] < times:
                calls["failures"] += 1
                raise OperationalError("terminating connection due to administrator command")
            return real(*args, **kwargs)

        monkeypatch.setattr(actions, "record_reading", record)
        monkeypatch.setattr(intake_module, "RETRY_FIRST_SECONDS", 0.01)
        return calls

    return make


def test_a_reading_is_acknowledged_only_once_stored_after_database_errors(sensor, flaky_database, closed):
    sensor()
    flaky_database(3)
    client, intake = FakeClient(), MqttIntake("mqtt://127.0.0.1:1", TOPIC, "test")
    intake._on_message(client, None, message(1, {"id": "m1", "value": 3}))
    assert client.acked == [(1, 1, True)]  # acked, and the reading was there when it was
    assert len(closed) >= 3  # each failure closed the broken connection


def test_a_message_still_unstored_when_the_intake_stops_is_not_acknowledged(sensor, flaky_database):
    sensor()
    flaky_database(10**6)
    client, intake = FakeClient(), MqttIntake("mqtt://127.0.0.1:1", TOPIC, "test")
    threading.Timer(0.3, intake.stopping.set).start()
    intake._on_message(client, None, message(2, {"id": "m2", "value": 3}))
    assert client.acked == [] and not Reading.objects.exists()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "refused"),
        ({"id": "m3", "value": True}, "'value'"),
        ({"id": "m3", "value": "12"}, "'value'"),
        ({"id": "m3", "value": 1, "at": "2099-01-01T00:00:00+08:00"}, "'at'"),
        ({"id": "m3", "value": 1e300}, "'value'"),
        ({"id": "m3", "value": 1, "seq": -1}, "'seq'"),
        ({"id": True, "value": 1}, "'id'"),
    ],
)
def test_an_invalid_message_is_acknowledged_with_its_reason_logged(sensor, caplog, payload, reason):
    sensor()
    client, intake = FakeClient(), MqttIntake("mqtt://127.0.0.1:1", TOPIC, "test")
    intake._on_message(client, None, message(3, payload))
    assert client.acked == [(3, 1, False)] and not Reading.objects.exists()
    assert reason in caplog.text and "refused" in caplog.text
