"""The SQLite backend queues writers on a file lock: held from BEGIN to COMMIT/ROLLBACK only."""

import threading
import time

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
