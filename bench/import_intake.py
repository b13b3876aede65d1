"""Case intake while a large people import runs, on SQLite (the embedded default): the API's intake
p50/p99 (gunicorn, as `make demo` runs it; RATE cases a second from CLIENTS clients) with no import,
then during a 200,000-row people import
(`wangge import people`, its own process, as the worker runs it), in the same run. The import
commits in short transactions under an undo journal (core.sqlite.journal), so intake gets the
writer lock between them instead of waiting for the whole file (before: 133 s for 50,000 people,
with 500s and timeouts). Also: requests answered 503 (writer lock timeout) or failed, and the
import's own time.

Runs on a copy of the city-scale bench database under var/bench-import (made once, then restored
before every run), so the 200,000 people never reach the other benchmarks' database."""

import csv
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

from .common import ROOT, Result
from .intake import Server, intake_requests, percentile, prepare

PEOPLE = int(os.environ.get("WANGGE_BENCH_IMPORT_ROWS", "200000"))
CLIENTS = 4
# Cases a second offered (a busy city's intake, not a saturating stress: a writer that never lets
# the lock rest would starve any other writer, import or not).
RATE = float(os.environ.get("WANGGE_BENCH_INTAKE_RATE", "20"))
BASELINE_REQUESTS = 2000
VAR = ROOT / "var" / "bench-import"


def id_number(i: int) -> str:
    from wangge.registry.validators import id_check_char

    # Registered in 440306 (Shenzhen Bao'an), which the demo data never uses: no number in the file
    # is registered already (the demo's 441900 numbers met one by line 13,671, refusing the file).
    first17 = f"440306{date(1950, 1, 1) + timedelta(days=i % 20000):%Y%m%d}{100 + i // 20000:03d}"
    return first17 + id_check_char(first17)


def people_csv(path, n, grids):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["姓名", "人员类型", "身份证号", "区域代码"])
        for i in range(n):
            writer.writerow([f"压测{i}", "户籍人口", id_number(i), grids[i % len(grids)]])


def grid_codes(env):
    script = (
        "import django,json;django.setup();from wangge.areas.models import Area;"
        "print(json.dumps(list(Area.objects.filter(level='grid').values_list('code',flat=True))))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Load:
    """CLIENTS threads posting cases until stopped (or `total` requests); latencies and statuses."""

    def __init__(self, port, make_request, total=None):
        self.port, self.make_request, self.total = port, make_request, total
        self.latencies, self.statuses, self.stop = [], [], threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.client) for _ in range(CLIENTS)]

    def client(self):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        interval = CLIENTS / RATE
        while not self.stop.is_set():
            time.sleep(random.uniform(0, interval))  # arrivals spread over time, RATE a second in all
            with self.lock:
                if self.total is not None and len(self.latencies) >= self.total:
                    return
            method, path, body, headers = self.make_request()
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            elapsed = (time.perf_counter() - start) * 1000
            with self.lock:
                self.latencies.append(elapsed)
                self.statuses.append(status)

    def run(self):
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join()
        return self

    def summary(self):
        ok = [lat for lat, s in zip(self.latencies, self.statuses, strict=True) if 200 <= s < 300]
        return {
            "requests": len(self.latencies),
            "ok": len(ok),
            "503": self.statuses.count(503),
            "failed": sum(1 for s in self.statuses if s != 503 and not 200 <= s < 300),
            "p50": percentile(ok, 50),
            "p99": percentile(ok, 99),
            "max": max(ok),
        }


def run():
    env = {**os.environ, "WANGGE_VAR_DIR": str(VAR), "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    VAR.mkdir(parents=True, exist_ok=True)
    db, pristine = VAR / "wangge.sqlite3", VAR / "pristine.sqlite3"
    if not pristine.exists():
        points = prepare(env)
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the database file itself
        shutil.copyfile(db, pristine)
    for suffix in ("-wal", "-shm"):
        (VAR / f"wangge.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, db)
    points = prepare(env)  # migrations only (the city is there); the grid centroids of a town
    grids = grid_codes(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    csv_path = VAR / "people.csv"
    os.environ["WANGGE_VAR_DIR"] = str(VAR)
    import django

    django.setup()
    people_csv(csv_path, PEOPLE, grids)

    server = Server(env)
    try:
        intake = intake_requests(server, points)

        Load(server.port, intake, 200).run().join()  # warm up
        baseline = Load(server.port, intake, BASELINE_REQUESTS).run().join().summary()
        print(f"   no import: {baseline}", flush=True)
        start = time.perf_counter()
        importer = subprocess.Popen(
            [sys.executable, "-m", "django", "import", "people", str(csv_path), "--user", "admin"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)  # the import's first batches are being read and checked
        during = Load(server.port, intake).run()
        out, err = importer.communicate()
        import_seconds = time.perf_counter() - start
        during.stop.set()
        loaded = during.join().summary()
        print(f"   during the import ({import_seconds:,.0f} s, exit {importer.returncode}): {loaded}", flush=True)
        if importer.returncode:
            raise RuntimeError(f"the import failed: {err[-2000:]}")
    finally:
        server.stop()
    label = f"{PEOPLE:,}-row people import"
    return [
        Result("import_intake.sqlite.p99_ms", loaded["p99"], "ms", "intake p99, no import, same run",
               baseline["p99"], loaded["p99"] / baseline["p99"]),
        Result("import_intake.sqlite.p50_ms", loaded["p50"], "ms", "intake p50, no import, same run",
               baseline["p50"], loaded["p50"] / baseline["p50"]),
        Result("import_intake.sqlite.max_ms", loaded["max"], "ms", "intake max, no import, same run",
               baseline["max"], loaded["max"] / baseline["max"]),
        Result("import_intake.sqlite.failed_or_503", loaded["failed"] + loaded["503"], "requests",
               f"of {loaded['requests']:,} intake requests during the import", loaded["requests"],
               (loaded["failed"] + loaded["503"]) / max(loaded["requests"], 1)),
        Result("import_intake.sqlite.import_seconds", import_seconds, "s", f"{label} (rows)", PEOPLE,
               import_seconds / PEOPLE),
    ]  # fmt: skip
