"""Sensor readings over MQTT (paho-mqtt): `wangge mqtt_intake` subscribes to
settings.SENSOR_MQTT_TOPIC (default wangge/sensors/+/readings; the + is the sensor code) on
settings.SENSOR_MQTT_URL, with QoS 1 and a persistent session, so the broker keeps the messages
that arrive while the intake is stopped. Payload: JSON {"id": message id, "value": number,
"at": ISO 8601 time (optional), "seq": the sensor's message counter (optional)}.

A message is acknowledged only once its reading is stored (manual acks): when the database is away
(a dropped connection, a restart) the intake closes the broken connection and tries again with a
growing pause, and a message it could not store is sent again by the broker. A message that is
invalid (not JSON, unknown sensor, bad value) is logged with its reason and acknowledged: sending it
again would not make it valid. Configure the broker so that it keeps what arrives while the intake is
down (deploy/mosquitto/wangge.conf, docs/operations.md).
"""

import json
import logging
import threading
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection, connections

from . import actions

logger = logging.getLogger(__name__)


def sensor_code(topic: str, pattern: str) -> str:
    """The topic level that stands where the pattern has its '+'."""
    levels, wanted = topic.split("/"), pattern.split("/")
    if len(levels) != len(wanted) or "+" not in wanted:
        raise ValueError(f"topic {topic!r} does not match {pattern!r}")
    return levels[wanted.index("+")]


def handle(topic: str, payload: bytes, pattern: str) -> actions.Received | None:
    """One message → record_reading; None (and a log line) when the message is invalid. A database
    error is raised (the caller retries: the reading is not stored)."""
    try:
        code = sensor_code(topic, pattern)
        data = json.loads(payload.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the payload is not a JSON object")
        return actions.record_reading(code, data.get("id"), data.get("value"), data.get("at"), data.get("seq"))
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("sensor message on %s refused: %s", topic, exc)
    except ValidationError:
        pass  # record_reading logged the reason
    finally:
        close_old_connections()
    return None


RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 10.0


class Stopped(Exception):
    """The intake stops while the database is away: the message stays unacknowledged."""


def _drop_connection() -> None:
    """Close this thread's database connection, broken or not; the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        pass


def store(topic: str, payload: bytes, pattern: str, stopping: threading.Event | None = None):
    """handle() until the reading is stored or refused: transient database errors (the connection
    dropped, the server restarting, SQLite busy) are retried with a growing pause; any other error
    is logged with the message and given up (a bug would otherwise block the queue forever)."""
    stopping = stopping or threading.Event()
    pause = RETRY_FIRST_SECONDS
    while True:
        try:
            return handle(topic, payload, pattern)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("sensor message on %s not stored yet (database: %s); again in %.1f s", topic, exc, pause)
            _drop_connection()
            if stopping.wait(pause):
                raise Stopped from exc
            pause = min(pause * 2, RETRY_MAX_SECONDS)
        except Exception:
            logger.exception("sensor message on %s failed and is dropped: %r", topic, payload[:500])
            _drop_connection()
            return None


class MqttIntake:
    def __init__(self, url: str | None = None, topic: str | None = None, client_id: str | None = None):
        self.url = urlparse(url or settings.SENSOR_MQTT_URL)
        self.topic = topic or settings.SENSOR_MQTT_TOPIC
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or settings.SENSOR_MQTT_CLIENT_ID,
            clean_session=False,  # the broker keeps our subscription and QoS 1 messages while we are away
            manual_ack=True,  # acknowledged once stored (store()), not when received
        )
        self.stopping = threading.Event()
        if self.url.username:
            self.client.username_pw_set(self.url.username, self.url.password)
        if self.url.scheme == "mqtts":
            self.client.tls_set()
        self.subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._on_message
        # Runs in the network thread, whose database connection it closes (stop() or a lost broker).
        self.client.on_disconnect = lambda *args: connections.close_all()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.warning("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)
        logger.info("subscribed to %s on %s", self.topic, self.url.geturl())

    def _on_message(self, client, userdata, message):
        try:
            store(message.topic, message.payload, self.topic, self.stopping)
        except Stopped:
            return  # not acknowledged: the broker sends it again to the next session
        client.ack(message.mid, message.qos)

    def _connect(self):
        port = self.url.port or (8883 if self.url.scheme == "mqtts" else 1883)
        self.client.connect_async(self.url.hostname or "127.0.0.1", port, keepalive=30)

    def start(self):
        """In a background thread (tests)."""
        self._connect()
        self.client.loop_start()

    def stop(self):
        self.stopping.set()
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self):
        """In this thread until interrupted; reconnects by itself when the broker goes away."""
        self._connect()
        self.client.loop_forever(retry_first_connection=True)
