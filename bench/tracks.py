"""GPS track ingest through the API against the real server (gunicorn, as `make demo` runs it):
many simulated field workers send batches of 20 points (`POST /api/v1/patrol/positions`) from
concurrent clients; points/s against a raw insert of the same points, one row per point and one
transaction per batch, in the same run; and the stored bytes per point (the TrackDay table, indexes
and overflow/TOAST pages included) against the raw table. On SQLite, and on PostgreSQL when reachable.
"""

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from . import intake
from .common import BENCH_VAR, ROOT, Result, on_sqlite_and_postgres

WORKERS = 200
BATCH = 20
BATCHES_PER_WORKER = 15  # 300 points a worker: 2.5 hours at one point per 30 s
INTERVAL_S = 30
RUNS = 2  # the ingest is measured this many times (fresh track days each time); the best is kept
# A database of its own: the bench workers and their tracks stay out of the other benchmarks' city.
PG_URL = os.environ.get("WANGGE_BENCH_TRACKS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/wangge_bench_tracks")


def setup_workers(count: int) -> list[dict]:
    """Bench workers (bench_gm_000…), each a grid manager of one grid, with a fresh API token and no
    track yet. Run inside Django."""
    from wangge.accounts.actions import add_membership, create_user, issue_token
    from wangge.accounts.models import ApiToken, Role, User
    from wangge.areas.models import Area, Level
    from wangge.patrol.models import TrackDay, WorkerPosition

    grids = list(Area.objects.filter(level=Level.GRID, boundary__isnull=False).order_by("code")[:count])
    workers = []
    for index, grid in enumerate(grids):
        username = f"bench_gm_{index:03d}"
        user = User.objects.filter(username=username).first() or create_user(username, None, full_name=username)
        add_membership(user, Role.GRID_MANAGER, area=grid)
        ApiToken.objects.filter(user=user).delete()
        workers.append(
            {"username": username, "token": issue_token(user), "lat": grid.centroid_lat, "lng": grid.centroid_lng}
        )
    TrackDay.objects.filter(worker__username__startswith="bench_gm_").delete()
    WorkerPosition.objects.filter(worker__username__startswith="bench_gm_").delete()
    return workers


def django_script(env, code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import django;django.setup();" + code],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


class Walks:
    """Every worker's next batch, in time order per worker; the same points are kept for the raw insert."""

    def __init__(self, workers, start: datetime):
        self.workers = workers
        self.start = start
        self.rng = random.Random(7)
        self.here = [(w["lat"], w["lng"]) for w in workers]
        self.next_batch = [0] * len(workers)
        self.turn = 0
        self.lock = threading.Lock()
        self.sent = []  # (worker index, points) in the order they were handed out

    def take(self):
        with self.lock:
            index = self.turn % len(self.workers)
            self.turn += 1
            batch = self.next_batch[index]
            self.next_batch[index] += 1
            lat, lng = self.here[index]
            points = []
            for i in range(BATCH):
                lat += self.rng.uniform(-4e-4, 4e-4)
                lng += self.rng.uniform(-4e-4, 4e-4)
                roll = self.rng.random()
                accuracy = None if roll < 0.02 else 150.0 if roll < 0.05 else round(self.rng.uniform(4, 25), 1)
                at = self.start + timedelta(seconds=(batch * BATCH + i) * INTERVAL_S)
                points.append(
                    {"at": at.isoformat(), "lat": round(lat, 6), "lng": round(lng, 6), "accuracy_m": accuracy}
                )
            self.here[index] = (lat, lng)
            self.sent.append((index, points))
            return index, points

    def request(self):
        index, points = self.take()
        headers = {"Authorization": f"Bearer {self.workers[index]['token']}", "Content-Type": "application/json"}
        return "POST", "/api/v1/patrol/positions", json.dumps({"points": points}), headers


def raw_rows(sent):
    for index, points in sent:
        yield [(index, p["at"], p["lat"], p["lng"], p["accuracy_m"]) for p in points]


RAW_TABLE = "CREATE TABLE raw_point (worker integer, at text, lat real, lng real, accuracy real)"
RAW_INDEX = "CREATE INDEX raw_point_worker_at ON raw_point (worker, at)"


def raw_sqlite(sent) -> tuple[float, float]:
    """The same points, one row each, one transaction per batch (as the API commits), same pragmas as
    the app's SQLite: (points/s, bytes per point)."""
    path = BENCH_VAR / "raw_points.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(RAW_TABLE)
    conn.execute(RAW_INDEX)
    batches = list(raw_rows(sent))
    start = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO raw_point VALUES (?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    points = sum(len(rows) for rows in batches)
    size = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('raw_point', 'raw_point_worker_at')").fetchone()
    conn.close()
    return points / seconds, size[0] / points


def raw_postgres(url, sent) -> tuple[float, float]:
    import psycopg

    batches = list(raw_rows(sent))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_point")
        conn.execute(RAW_TABLE.replace("at text", "at timestamptz"))
        conn.execute(RAW_INDEX)
        start = time.perf_counter()
        for rows in batches:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany("INSERT INTO raw_point VALUES (%s, %s, %s, %s, %s)", rows)
        seconds = time.perf_counter() - start
        conn.execute("VACUUM ANALYZE raw_point")
        size = conn.execute("SELECT pg_total_relation_size('raw_point')").fetchone()[0]
        conn.execute("DROP TABLE raw_point")
    points = sum(len(rows) for rows in batches)
    return points / seconds, size / points


def stored_bytes_per_point(env, url=None) -> float:
    """The TrackDay table's size (rows, indexes, overflow or TOAST pages) divided by the points it holds."""
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM FULL patrol_trackday")
            size = conn.execute("SELECT pg_total_relation_size('patrol_trackday')").fetchone()[0]
            points = conn.execute("SELECT sum(point_count) FROM patrol_trackday").fetchone()[0]
        return size / points
    code = (
        "from django.db import connection;c=connection.cursor();"
        'c.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master '
        "WHERE tbl_name='patrol_trackday')\");size=c.fetchone()[0];"
        "c.execute('SELECT sum(point_count) FROM patrol_trackday');print(size/c.fetchone()[0])"
    )
    return float(django_script(env, code))


def prepare(env):
    """Migrate, and build the city-scale demo city unless it is there already."""
    intake.wangge(env, "migrate", "-v0")
    grids = django_script(env, "from wangge.areas.models import Area;print(Area.objects.filter(level='grid').count())")
    if int(grids) < 3000:
        intake.wangge(env, "demo_data", "--scale", "city")


def measure(label, env, url=None):
    prepare(env)
    results = []
    best = None
    for run in range(RUNS):
        workers = json.loads(django_script(env, f"from bench.tracks import setup_workers;import json;"
                                                f"print(json.dumps(setup_workers({WORKERS})))"))  # fmt: skip
        start = datetime.now(UTC) - timedelta(hours=6)
        walks = Walks(workers, start)
        server = intake.Server(env)
        try:
            bare = lambda: ("GET", "/healthz", None, {})  # noqa: E731
            intake.load(server.port, bare, intake.WARMUP)
            bare_rate, _bare_latencies = intake.load(server.port, bare, intake.REQUESTS)
            intake.load(server.port, walks.request, len(workers))  # every worker's first batch: warm-up
            walks.sent.clear()
            requests = len(workers) * (BATCHES_PER_WORKER - 1)
            rate, latencies = intake.load(server.port, walks.request, requests)
        finally:
            server.stop()
        points_rate = rate * BATCH
        raw_rate, raw_bytes = raw_postgres(url, walks.sent) if url else raw_sqlite(walks.sent)
        print(
            f"   {label} run {run + 1}: {points_rate:,.0f} points/s through the API, raw insert {raw_rate:,.0f} "
            f"points/s, p50 {intake.percentile(latencies, 50):.1f} ms, p99 {intake.percentile(latencies, 99):.1f} ms; "
            f"{rate:,.0f} batches/s against a bare view's {bare_rate:,.0f} req/s",
            flush=True,
        )
        if best is None or points_rate > best[0]:
            best = (points_rate, raw_rate, latencies, raw_bytes, rate, bare_rate)
    points_rate, raw_rate, latencies, raw_bytes, rate, bare_rate = best
    stored = stored_bytes_per_point(env, url)
    print(f"   {label}: {stored:.1f} bytes per point stored (raw table {raw_bytes:.1f})", flush=True)
    results += [
        Result(
            f"tracks.{label}.points_per_second",
            points_rate,
            "points/s",
            "raw insert, a row per point, same run",
            raw_rate,
            points_rate / raw_rate,
        ),
        Result(
            f"tracks.{label}.batches_per_second",
            rate,
            "batches/s",
            "bare Django JSON view, same server",
            bare_rate,
            rate / bare_rate,
        ),
        Result(
            f"tracks.{label}.batch_p99_ms",
            intake.percentile(latencies, 99),
            "ms",
            "batch p50",
            intake.percentile(latencies, 50),
            intake.percentile(latencies, 99) / intake.percentile(latencies, 50),
        ),
        Result(
            f"tracks.{label}.bytes_per_point",
            stored,
            "bytes",
            "raw table, a row per point",
            raw_bytes,
            stored / raw_bytes,
        ),
    ]
    return results


def run():
    return on_sqlite_and_postgres(lambda label, env: measure(label, env, env.get("DATABASE_URL")), BENCH_VAR, PG_URL)
