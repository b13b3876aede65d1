"""The SQLite backend queues writers on a file lock: held from BEGIN to COMMIT/ROLLBACK only."""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from wangge.core.models import CacheVersion

pytestmark = [
    pytest.mark.serial,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SKIPPED: the writer lock is for SQLite only"),
]


def test_a_transaction_holds_the_writer_lock_until_it_ends(transactional_db):
    assert not connection._writer_held
    with transaction.atomic():
        CacheVersion.objects.create(name="t1")
        assert connection._writer_held
    assert not connection._writer_held
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        CacheVersion.objects.create(name="t2")
        raise ZeroDivisionError
    assert not connection._writer_held and not CacheVersion.objects.filter(name="t2").exists()


def test_a_second_writer_waits_in_line_and_then_goes_through(transactional_db):
    order = []

    def second():
        try:
            with transaction.atomic():
                order.append("second in")
                CacheVersion.objects.create(name="second")
        finally:
            connections.close_all()

    with transaction.atomic():
        CacheVersion.objects.create(name="first")
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first out")
    thread.join(10)
    assert order == ["first out", "second in"]
    assert set(CacheVersion.objects.values_list("name", flat=True)) >= {"first", "second"}


def test_checkpoints_run_after_the_writers_let_go_not_inside_their_commits(transactional_db, monkeypatch):
    """SQLite's own checkpoint (inside a COMMIT, holding the lock) is off; the backend checkpoints
    every CHECKPOINT_EVERY writes, after the writer let go, on a connection of its own."""
    from wangge.core.sqlite import base

    connection.ensure_connection()
    assert connection.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    checkpointer = base._checkpointer(str(connection.settings_dict["NAME"]))
    real_connection, checkpoints = checkpointer.connection, []

    class Spy:
        def execute(self, sql):
            checkpoints.append((sql, connection._writer_held))
            return real_connection.execute(sql)

    monkeypatch.setattr(checkpointer, "connection", Spy())
    for index in range(2 * base.CHECKPOINT_EVERY):
        if index % 2:
            CacheVersion.objects.create(name=f"c{index}")  # autocommit
        else:
            with transaction.atomic():
                CacheVersion.objects.create(name=f"c{index}")
    assert checkpoints == [("PRAGMA wal_checkpoint(PASSIVE)", False)] * 2


WRITER = """
import json, random, sys, threading, time
import django
from django.conf import settings

role, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
settings.configure(
    DATABASES={"default": {"ENGINE": "wangge.core.sqlite", "NAME": path, "OPTIONS": {"transaction_mode": "IMMEDIATE"}}},
    USE_TZ=True,
    WANGGE_SQLITE_WRITER_TIMEOUT=seconds,
)
django.setup()
from django.db import connection, connections, transaction
from wangge.core.sqlite.base import WriterBusy

if role == "bulk":  # transactions of 0.25 s back to back, on its CPU all the time: an import with no pause
    connection.bulk_writer = True
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with transaction.atomic():
            connection.cursor().execute("INSERT INTO t (who) VALUES ('bulk')")
            busy = time.perf_counter() + 0.25
            while time.perf_counter() < busy:
                pass
else:  # 5 threads (a gunicorn worker's) writing now and then; how long each write waited for the lock
    waits = []

    def client():
        for _ in range(4):
            time.sleep(random.uniform(0.05, 0.15))
            start = time.perf_counter()
            try:
                with transaction.atomic():
                    waits.append(time.perf_counter() - start)
                    connection.cursor().execute("INSERT INTO t (who) VALUES ('interactive')")
            except WriterBusy:
                waits.append(seconds)
        connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(waits), flush=True)
"""


def test_waiting_writers_go_before_a_bulk_writer_that_asks_again_at_once(tmp_path):
    """flock(2) is not first come, first served: a bulk writer that asks again the moment it commits
    often gets the lock back before the woken waiter of another process runs, and the threads of
    that process get one turn per bulk transaction at best (before: 20 writes from 5 threads waited
    up to 1.2 s on a quiet 2-core machine, 4 s on a loaded one). Marked bulk_writer, it lets the
    waiting writers go first: each waits for about the bulk transaction under way, 0.25 s (0.2 s
    measured), and the bulk writer still goes on."""
    path = str(tmp_path / "fair.sqlite3")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-c", WRITER]
    bulk = subprocess.Popen([*command, "bulk", path, "120"], cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert bulk.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        interactive = subprocess.run(
            [*command, "interactive", path, "10"], cwd=root, env=env, capture_output=True, text=True, timeout=300
        )
        assert interactive.returncode == 0, interactive.stderr
    finally:
        bulk.kill()
        bulk.wait()
    waits = sorted(json.loads(interactive.stdout))
    with sqlite3.connect(path) as db:
        written = dict(db.execute("SELECT who, count(*) FROM t GROUP BY who").fetchall())
    assert written["interactive"] == 20
    assert written["bulk"] >= 5  # not starved either
    assert waits[-1] < 0.6, f"waits for the lock (s): {[round(w, 3) for w in waits]}"
