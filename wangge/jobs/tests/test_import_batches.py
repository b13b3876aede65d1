"""Imports on SQLite commit in short transactions (other writers get their turn between them) and
stay all or nothing: a refused file, an error or a crash of the worker undoes what was committed
(core.sqlite.journal)."""

import csv
import os
import subprocess
import sys
import threading
import uuid
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction

from wangge.accounts.models import User
from wangge.core.models import CacheVersion, UndoEntry, UndoJournal
from wangge.core.tabular import run_import
from wangge.history.models import ChangeRecord
from wangge.jobs import actions
from wangge.jobs.models import Job, Kind, State
from wangge.registry.models import Person
from wangge.registry.transfer import PersonImport
from wangge.registry.validators import id_check_char

pytestmark = [
    pytest.mark.serial,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SKIPPED: batched imports are for SQLite only"),
]

GRID = "441900122002001"


def id_number(i: int) -> str:
    first17 = f"441900{date(1960, 1, 1) + timedelta(days=i):%Y%m%d}{500 + i % 400:03d}"
    return first17 + id_check_char(first17)


def people_csv(path, n, bad_last=False):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["姓名", "人员类型", "身份证号", "区域代码"])
        for i in range(n):
            writer.writerow([f"批次{i}", "户籍人口", id_number(i), GRID])
        if bad_last:
            writer.writerow(["批次坏", "外星人", id_number(n), GRID])  # not a person type: the file is refused
    return path


def other_connection(fn):
    """fn() in another thread, i.e. on another database connection; its result."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return out.get("value")


def leftovers():
    people = Person.objects.filter(name__startswith="批次").count()
    return people, UndoJournal.objects.count(), UndoEntry.objects.count()


def test_another_writer_commits_between_the_batches_of_an_import(city, settings, tmp_path):
    settings.WANGGE_SQLITE_IMPORT_TX_SECONDS = 0.001  # a row or two a transaction
    admin = User.objects.get(username="admin")
    spec, real_write, calls, probe = PersonImport(), None, [], {}
    spec.batch_size = 10
    real_write = spec.write

    def other_writer():
        try:
            with transaction.atomic():
                CacheVersion.objects.create(name="probe")
            probe["after_write_call"] = len(calls)
        finally:
            connections.close_all()

    def write(rows, user):
        calls.append(len(rows))
        if len(calls) == 2:  # inside the import's transaction: the other writer has to wait for it
            probe["thread"] = threading.Thread(target=other_writer)
            probe["thread"].start()
        if len(calls) == 5:
            probe["thread"].join(10)  # one transaction for the whole file: never (it waits for us)
        return real_write(rows, user)

    spec.write = write
    outcome = run_import(spec, people_csv(tmp_path / "people.csv", 40), admin)
    probe["thread"].join(30)
    assert outcome.written == 40 and not outcome.error_count
    # The other writer committed while the import was still writing (not after its last batch).
    assert probe.get("after_write_call") is not None and probe["after_write_call"] < len(calls), (probe, calls)
    assert Person.objects.filter(name__startswith="批次").count() == 40
    assert leftovers()[1:] == (0, 0)  # the journal of a finished import is dropped


def test_the_import_writes_as_a_bulk_writer_that_lets_waiting_writers_first(city, settings, tmp_path, monkeypatch):
    """Under its journal, the import's connection is a bulk writer (core.sqlite.base): before each of
    its transactions it checks for waiting writers; other writes, and its own after it, do not."""
    from wangge.core.sqlite import base

    settings.WANGGE_SQLITE_IMPORT_TX_SECONDS = 0.001
    checks, real = [], base._let_waiters_first
    monkeypatch.setattr(base, "_let_waiters_first", lambda path: (checks.append(path), real(path)))
    spec = PersonImport()
    spec.batch_size = 10
    outcome = run_import(spec, people_csv(tmp_path / "people.csv", 20), User.objects.get(username="admin"))
    assert outcome.written == 20
    assert len(checks) >= 10 and set(checks) == {f"{connection.settings_dict['NAME']}-waiting.lock"}
    assert not connection.bulk_writer
    before = len(checks)
    with transaction.atomic():
        CacheVersion.objects.create(name="interactive")
    assert len(checks) == before


def test_a_refused_import_takes_back_the_batches_it_committed(city, settings, tmp_path):
    settings.WANGGE_SQLITE_IMPORT_TX_SECONDS = 0.001
    admin = User.objects.get(username="admin")
    records = ChangeRecord.objects.count()
    spec, seen = PersonImport(), []
    spec.batch_size = 10
    real_write = spec.write

    def write(rows, user):
        if len(seen) == 3:  # committed, so visible to everybody
            seen.append(other_connection(lambda: Person.objects.filter(name__startswith="批次").count()))
        seen.append(None)
        return real_write(rows, user)

    spec.write = write
    outcome = run_import(spec, people_csv(tmp_path / "people.csv", 30, bad_last=True), admin)
    assert outcome.rejected and outcome.written == 0 and outcome.error_count == 1
    assert [s for s in seen if s] and [s for s in seen if s][0] > 0  # batches were committed meanwhile
    assert leftovers() == (0, 0, 0)
    assert ChangeRecord.objects.count() == records  # their change records are gone too


def test_an_error_inside_an_import_takes_back_its_batches(city, settings, tmp_path):
    settings.WANGGE_SQLITE_IMPORT_TX_SECONDS = 0.001
    admin = User.objects.get(username="admin")
    spec, calls = PersonImport(), []
    spec.batch_size = 10
    real_write = spec.write

    def write(rows, user):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("disk on fire")
        return real_write(rows, user)

    spec.write = write
    with pytest.raises(RuntimeError):
        run_import(spec, people_csv(tmp_path / "people.csv", 30), admin)
    assert leftovers() == (0, 0, 0)


CRASHING_IMPORT = """
import os, sys
import django
django.setup()
from wangge.accounts.models import User
from wangge.core.tabular import run_import
from wangge.registry.transfer import PersonImport

spec, calls = PersonImport(), []
spec.batch_size = 10
real_write = spec.write

def write(rows, user):
    calls.append(1)
    if len(calls) == 6:
        os._exit(9)  # the worker dies in the middle of a transaction
    return real_write(rows, user)

spec.write = write
run_import(spec, sys.argv[1], User.objects.get(username="admin"), journal_name="job:" + sys.argv[2])
"""


def test_an_import_cut_by_a_crash_is_undone_when_the_worker_starts_again(city, tmp_path):
    admin = User.objects.get(username="admin")
    job = Job.objects.create(kind=Kind.IMPORT, register="people", owner=admin, state=State.RUNNING)
    env = {
        **os.environ,
        "WANGGE_SQLITE_PATH": str(connection.settings_dict["NAME"]),
        "WANGGE_VAR_DIR": str(django_settings.VAR_DIR),
        "WANGGE_SQLITE_IMPORT_TX_SECONDS": "0.001",
        "DJANGO_SETTINGS_MODULE": "wangge.settings",
    }
    path = people_csv(tmp_path / "people.csv", 30)
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_IMPORT, str(path), job.token.hex],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 9, done.stderr[-3000:]
    people, journals, entries = leftovers()
    assert people > 0 and journals == 1 and entries > 0  # committed batches, not final
    assert actions.recover_imports() == 1  # at the worker's start (jobs.tasks.recover_imports)
    assert leftovers() == (0, 0, 0)
    job.refresh_from_db()
    assert job.state == State.FAILED and job.message


def test_recovery_leaves_a_running_import_alone(city, settings, tmp_path):
    """An import still running (its journal's lock held) is not undone by another process's recovery."""
    settings.WANGGE_SQLITE_IMPORT_TX_SECONDS = 0.001
    admin = User.objects.get(username="admin")
    spec, recovered = PersonImport(), []
    spec.batch_size = 10
    real_write = spec.write

    def write(rows, user):
        if not recovered and Person.objects.filter(name__startswith="批次").exists():
            recovered.append(other_connection(actions.recover_imports))
        return real_write(rows, user)

    spec.write = write
    outcome = run_import(spec, people_csv(tmp_path / "people.csv", 20), admin, journal_name=f"job:{uuid.uuid4().hex}")
    assert recovered == [0] and outcome.written == 20
    assert leftovers() == (20, 0, 0)
