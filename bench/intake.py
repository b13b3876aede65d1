"""Case intake through the API against the real server (gunicorn, as `make demo` runs it), with
concurrent clients on loopback: cases/s and p50/p99 latency, against a bare Django JSON view
(/healthz) served by the same server in the same run, and against the database floor: the same rows
written through the driver alone (bench/intake_floor.py). On SQLite, and on PostgreSQL when reachable."""

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

from .common import BENCH_VAR, ROOT, Result, on_sqlite_and_postgres

CLIENTS = 8
REQUESTS = 3000
WARMUP = 200
PG_URL = os.environ.get("WANGGE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/wangge_bench")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wangge(env, *args):
    subprocess.run([sys.executable, "-m", "django", *args], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def prepare(env):
    wangge(env, "migrate", "-v0")
    wangge(env, "demo_data", "--scale", "city")
    script = (
        "import django,json;django.setup();from wangge.areas.models import Area;"
        "print(json.dumps(list(Area.objects.filter(level='grid',path__startswith='441900/441900122/')"
        ".values_list('centroid_lat','centroid_lng'))))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    def __init__(self, env):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "gunicorn"),
                "wangge.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(100):
            try:
                self.request("GET", "/healthz")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def load(port, make_request, total):
    """CLIENTS threads on keep-alive connections; returns (requests/s, latencies in ms)."""
    latencies, errors, counter = [], [], iter(range(total))
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            method, path, body, headers = make_request()
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status >= 300:
                    errors.append(response.status)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. HTTP {errors[0]}")
    return total / seconds, latencies


def database_floor(env) -> dict:
    """What the database alone takes of the intake's writes (bench/intake_floor.py), on the bench's database."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.intake_floor"], check=True, cwd=ROOT, env=env, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def intake_requests(server, points):
    """A grid manager's token, then a maker of case posts near random points (the intake's load)."""
    _status, body = server.request(
        "POST",
        "/api/v1/auth/token",
        json.dumps({"username": "grid_manager", "password": "wangge-demo"}),
        {"Content-Type": "application/json"},
    )
    headers = {"Authorization": f"Bearer {json.loads(body)['token']}", "Content-Type": "application/json"}

    def intake():
        lat, lng = random.choice(points)
        body = {
            "description": "占道经营（压测）",
            "lat": lat + random.uniform(-2e-4, 2e-4),
            "lng": lng + random.uniform(-2e-4, 2e-4),
            "matter_item": "street_vendor",
        }
        return "POST", "/api/v1/cases", json.dumps(body), {**headers, "Idempotency-Key": uuid.uuid4().hex}

    return intake


def percentile(values, p):
    return statistics.quantiles(values, n=100)[p - 1]


def measure(label, env):
    points = prepare(env)
    server = Server(env)
    try:
        intake = intake_requests(server, points)

        def bare():
            return "GET", "/healthz", None, {}

        load(server.port, bare, WARMUP)
        load(server.port, intake, WARMUP)
        bare_rate, bare_lat = load(server.port, bare, REQUESTS)
        rate, lat = load(server.port, intake, REQUESTS)
    finally:
        server.stop()
    floor = database_floor(env)
    print(
        f"   {label}: {rate:,.0f} cases/s (bare view {bare_rate:,.0f} req/s; the same rows through the driver"
        f" alone {floor['cases_per_second']:,.0f} cases/s, {floor['cpu_ms_per_case']:.2f} ms CPU a case)",
        flush=True,
    )
    return [
        Result(
            f"intake.{label}.cases_per_second",
            rate,
            "cases/s",
            "bare Django JSON view, same server",
            bare_rate,
            rate / bare_rate,
        ),
        Result(
            f"intake.{label}.vs_database_floor",
            rate,
            "cases/s",
            "the same rows through the database driver alone (SQLite: 1 connection; PostgreSQL: 8)",
            floor["cases_per_second"],
            rate / floor["cases_per_second"],
        ),
        Result(
            f"intake.{label}.p50_ms",
            percentile(lat, 50),
            "ms",
            "bare view p50",
            percentile(bare_lat, 50),
            percentile(lat, 50) / percentile(bare_lat, 50),
        ),
        Result(
            f"intake.{label}.p99_ms",
            percentile(lat, 99),
            "ms",
            "bare view p99",
            percentile(bare_lat, 99),
            percentile(lat, 99) / percentile(bare_lat, 99),
        ),
    ]


def run():
    return on_sqlite_and_postgres(measure, BENCH_VAR, PG_URL)
