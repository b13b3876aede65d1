#!/usr/bin/env bash
# Migrates, builds the demo city, then runs the background worker, the sensor intake (MQTT) and
# the web server on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
$BIN/wangge migrate --no-input -v0
$BIN/wangge demo_data --scale "${SCALE:-small}"
$BIN/wangge run_huey --quiet &
WORKER=$!
# Sensor readings from the MQTT broker (WANGGE_MQTT_URL, default 127.0.0.1:1883); it waits and
# retries while no broker is up.
$BIN/wangge mqtt_intake > var/mqtt_intake.log 2>&1 &
SENSORS=$!
trap 'kill $WORKER $SENSORS 2>/dev/null || true' EXIT INT TERM
echo
echo "wangge is running at http://127.0.0.1:${PORT:-8000}/ (Ctrl-C stops web server and worker)"
$BIN/gunicorn wangge.wsgi --bind "127.0.0.1:${PORT:-8000}" --workers "${WEB_WORKERS:-2}" --threads 4 \
  --access-logfile - --log-level warning
