"""The shipped Mosquitto config (deploy/mosquitto/wangge.conf) keeps every reading that arrives
while the intake is away: a broker started from it (own port, files in a temporary directory)
holds 3,000 QoS 1 messages for the intake's persistent session, where the default keeps 1,000."""

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CONFIG = Path(settings.BASE_DIR) / "deploy" / "mosquitto" / "wangge.conf"
SENT = 3000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(tmp_path, port, shipped: bool):
    lines = [f"listener {port} 127.0.0.1"]
    if os.geteuid() == 0:
        lines.append("user root")  # else it drops to the mosquitto user, who cannot read our temporary files
    if shipped:
        passwd = tmp_path / "passwd"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "intake", "secret"], check=True)
        for line in CONFIG.read_text().splitlines():
            if line.startswith("listener "):
                continue  # our own port instead
            if line.startswith("password_file "):
                line = f"password_file {passwd}"
            if line.startswith("persistence_location "):
                line = f"persistence_location {tmp_path}/"
            lines.append(line)
    else:
        lines.append("allow_anonymous true")
    conf = tmp_path / "broker.conf"
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.PIPE)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"mosquitto did not start: {proc.stderr.read().decode()[-2000:]}")


def client(port, client_id, clean=True):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    c.username_pw_set("intake", "secret")
    c.connect("127.0.0.1", port)
    return c


def kept_while_away(tmp_path, shipped: bool) -> int:
    port, topic = free_port(), f"t-{uuid.uuid4().hex[:6]}/sensors/+/readings"
    broker = start_broker(tmp_path, port, shipped)
    try:
        intake = client(port, "intake", clean=False)  # the intake's persistent session
        intake.loop_start()
        intake.subscribe(topic, qos=1)
        time.sleep(0.5)
        intake.disconnect()
        intake.loop_stop()
        sender = client(port, "gateway")
        sender.loop_start()
        for i in range(SENT):
            sender.publish(topic.replace("+", "s1"), f'{{"id": "{i}", "value": 1}}', qos=1).wait_for_publish(5)
        sender.disconnect()
        sender.loop_stop()
        got = set()
        intake = client(port, "intake", clean=False)
        intake.on_message = lambda c, u, m: got.add(m.payload)
        intake.loop_start()
        last, deadline = -1, time.monotonic() + 60
        while time.monotonic() < deadline and len(got) != last:  # until nothing more comes
            last = len(got)
            time.sleep(1.5)
        intake.disconnect()
        intake.loop_stop()
        return len(got)
    finally:
        broker.terminate()
        broker.wait(10)


def test_the_shipped_broker_config_keeps_every_reading_while_the_intake_is_away(tmp_path):
    if not Path(MOSQUITTO).exists() or not shutil.which("mosquitto_passwd"):
        pytest.skip("SKIPPED: no mosquitto binary here to start a broker from deploy/mosquitto/wangge.conf")
    (tmp_path / "default").mkdir()
    (tmp_path / "shipped").mkdir()
    default = kept_while_away(tmp_path / "default", shipped=False)
    shipped = kept_while_away(tmp_path / "shipped", shipped=True)
    print(f"\nkept while the intake was away: default config {default} of {SENT}, shipped config {shipped}")
    assert default < SENT  # the default drops past its limit: the config is what keeps them
    assert shipped == SENT
