"""Readings through the real MQTT broker (Mosquitto on 127.0.0.1:1883) into cases, with the
intake stopped and started again in between: QoS 1 and a persistent session lose nothing."""

import json
import os
import socket
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from django.db import connection

from wangge.cases.models import Case, Channel
from wangge.sensors.models import Reading
from wangge.sensors.mqtt import MqttIntake

pytestmark = pytest.mark.serial

BROKER = os.environ.get("WANGGE_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def broker():
    url = urlparse(BROKER)
    try:
        socket.create_connection((url.hostname, url.port or 1883), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"SKIPPED: no MQTT broker at {BROKER} ({exc})")
    return BROKER


@pytest.fixture
def publisher(broker):
    url = urlparse(broker)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"wangge-test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(url.hostname, url.port or 1883)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def wait_until(condition, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def start_intake(broker, topic, client_id):
    intake = MqttIntake(broker, topic, client_id)
    intake.start()
    assert intake.subscribed.wait(10), "the intake did not subscribe"
    return intake


def test_sensor_messages_become_cases_and_none_are_lost_while_the_intake_is_down(broker, publisher, city, sensor):
    sensor()  # in the committed test city: the intake's own thread reads it
    prefix = f"wangge-test-{uuid.uuid4().hex[:8]}"
    topic, client_id = f"{prefix}/sensors/+/readings", f"{prefix}-intake"

    def send(code, payload):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        publisher.publish(f"{prefix}/sensors/{code}/readings", body, qos=1).wait_for_publish(5)

    intake = start_intake(broker, topic, client_id)
    try:
        send("mh-001", {"id": "m1", "value": 3})  # fine
        send("mh-001", {"id": "m2", "value": 40, "at": "2026-05-01T08:30:00+08:00"})  # alarm → a case
        send("mh-001", {"id": "m2", "value": 40})  # the broker delivered it twice
        send("mh-001", b"not json")  # dropped, the loop goes on
        send("nobody", {"id": "z", "value": 99})  # unknown sensor, dropped
        send("mh-001", {"id": "f1", "value": 1, "at": "2099-05-01T08:30:00+08:00"})  # a clock far ahead: refused
        send("mh-001", {"id": "f2", "value": True})  # not a number: refused
        send("mh-001", {"id": "m3", "value": 50})  # still alarming: joins the open case
        wait_until(lambda: Reading.objects.filter(message_id="m3").exists(), "m3")
    finally:
        intake.stop()
    cases = Case.objects.filter(channel=Channel.SENSOR)
    assert cases.count() == 1
    assert sorted(Reading.objects.values_list("message_id", flat=True)) == ["m1", "m2", "m3"]
    assert set(Reading.objects.filter(is_alarm=True).values_list("case", flat=True)) == {cases.get().pk}

    # The intake is down: the broker keeps what comes meanwhile for its session.
    send("mh-001", {"id": "m4", "value": 1})
    intake = start_intake(broker, topic, client_id)
    try:
        wait_until(lambda: Reading.objects.filter(message_id="m4").exists(), "m4 after the restart")
    finally:
        intake.stop()
        # Leave no session behind on the broker.
        cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        url = urlparse(broker)
        cleaner.connect(url.hostname, url.port or 1883)
        cleaner.disconnect()
    assert Reading.objects.count() == 4 and Case.objects.filter(channel=Channel.SENSOR).count() == 1


BURST = 1200
KILL_EVERY = float(os.environ.get("WANGGE_TEST_KILL_EVERY", "1"))  # seconds between two rounds of kills


def test_no_reading_is_lost_when_the_intakes_database_connection_is_killed(broker, publisher, city, sensor):
    """A burst of readings while every database connection but the killer's is terminated every
    second (pg_terminate_backend): each message is acknowledged only once stored, so none is lost."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIPPED: pg_terminate_backend needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    import threading

    import psycopg

    sensor()
    prefix = f"wangge-test-{uuid.uuid4().hex[:8]}"
    topic, client_id = f"{prefix}/sensors/+/readings", f"{prefix}-intake"
    db = connection.settings_dict
    conninfo = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}
    if db["PASSWORD"]:
        conninfo["password"] = db["PASSWORD"]
    stop, kills = threading.Event(), []

    def kill_connections():
        with psycopg.connect(**conninfo, autocommit=True) as killer:
            while not stop.wait(KILL_EVERY):
                rows = killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                kills.extend(r for r in rows if r[0])

    def stored():
        while True:
            try:
                return Reading.objects.filter(message_id__startswith="b").count()
            except Exception:  # the test's own connection was terminated too
                connection.close()

    intake = start_intake(broker, topic, client_id)
    killer = threading.Thread(target=kill_connections, daemon=True)
    killer.start()
    try:
        for i in range(BURST):
            value = 40 if i % 300 == 299 else 3  # a few alarms: the case path is killed too
            body = json.dumps({"id": f"b{i}", "value": value, "seq": i}).encode()
            publisher.publish(f"{prefix}/sensors/mh-001/readings", body, qos=1).wait_for_publish(5)
            if i % 100 == 99:  # keep the broker's queue for us well under its limit (1,000 by default)
                wait_until(lambda i=i: stored() >= i - 400, f"the intake to follow ({i})", 300)
        wait_until(lambda: stored() >= BURST, "every reading of the burst", 300)
    finally:
        stop.set()
        killer.join()
        intake.stop()
        cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        url = urlparse(broker)
        cleaner.connect(url.hostname, url.port or 1883)
        cleaner.disconnect()
        connection.close()
    lost = BURST - stored()
    print(f"\n{BURST} readings, {len(kills)} connections terminated, {lost} lost")
    assert kills, "no connection was terminated: the test proved nothing"
    assert lost == 0
    assert Reading.objects.filter(message_id__startswith="b").values("seq").distinct().count() == BURST
    assert Case.objects.filter(channel=Channel.SENSOR).count() == 1
