"""wangge mqtt_intake: take sensor readings from the MQTT broker (see wangge/sensors/mqtt.py)."""

import logging

from wangge.core.commands import ActionCommand
from wangge.sensors.mqtt import MqttIntake


class Command(ActionCommand):
    help = "Subscribe to sensor readings on the MQTT broker (WANGGE_MQTT_URL) and turn alarms into cases."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="broker, e.g. mqtt://127.0.0.1:1883 (default: WANGGE_MQTT_URL)")
        parser.add_argument("--topic", help="topic with one + for the sensor code (default: WANGGE_MQTT_TOPIC)")

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        intake = MqttIntake(options.get("url"), options.get("topic"))
        self.stdout.write(f"taking sensor readings from {intake.url.geturl()} ({intake.topic}); Ctrl-C stops")
        try:
            intake.run_forever()
        except KeyboardInterrupt:
            intake.stopping.set()  # a message being retried stays unacknowledged: the broker sends it again
            intake.client.disconnect()
