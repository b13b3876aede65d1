"""Sensor readings over MQTT (paho-mqtt): `wangge mqtt_intake` subscribes to
settings.SENSOR_MQTT_TOPIC (default wangge/sensors/+/readings; the + is the sensor code) on
settings.SENSOR_MQTT_URL, with QoS 1 and a persistent session, so the broker keeps the messages
that arrive while the intake is stopped. Payload: JSON {"id": message id, "value": number,
"at": ISO 8601 time (optional)}. Bad messages are logged and dropped; the loop never dies on one.
"""

import json
import logging
import threading
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections

from . import actions

logger = logging.getLogger(__name__)


def sensor_code(topic: str, pattern: str) -> str:
    """The topic level that stands where the pattern has its '+'."""
    levels, wanted = topic.split("/"), pattern.split("/")
    if len(levels) != len(wanted) or "+" not in wanted:
        raise ValueError(f"topic {topic!r} does not match {pattern!r}")
    return levels[wanted.index("+")]


def handle(topic: str, payload: bytes, pattern: str) -> actions.Received | None:
    """One message → record_reading; None (and a log line) when the message is unusable."""
    try:
        code = sensor_code(topic, pattern)
        data = json.loads(payload.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the payload is not a JSON object")
        return actions.record_reading(code, data.get("id"), data.get("value"), data.get("at"))
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("sensor message on %s refused: %s", topic, exc)
    except ValidationError as exc:
        logger.warning("sensor message on %s refused: %s", topic, exc.message_dict)
    except Exception:
        logger.exception("sensor message on %s failed", topic)
    finally:
        close_old_connections()
    return None


class MqttIntake:
    def __init__(self, url: str | None = None, topic: str | None = None, client_id: str | None = None):
        self.url = urlparse(url or settings.SENSOR_MQTT_URL)
        self.topic = topic or settings.SENSOR_MQTT_TOPIC
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or settings.SENSOR_MQTT_CLIENT_ID,
            clean_session=False,  # the broker keeps our subscription and QoS 1 messages while we are away
        )
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
        handle(message.topic, message.payload, self.topic)

    def _connect(self):
        port = self.url.port or (8883 if self.url.scheme == "mqtts" else 1883)
        self.client.connect_async(self.url.hostname or "127.0.0.1", port, keepalive=30)

    def start(self):
        """In a background thread (tests)."""
        self._connect()
        self.client.loop_start()

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self):
        """In this thread until interrupted; reconnects by itself when the broker goes away."""
        self._connect()
        self.client.loop_forever(retry_first_connection=True)
