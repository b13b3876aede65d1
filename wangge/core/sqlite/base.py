"""SQLite with its writers queued in line (ENGINE "wangge.core.sqlite"), for the embedded default.

SQLite lets one writer in at a time. Django's SQLite backend starts every transaction with
BEGIN IMMEDIATE (settings: transaction_mode), and a writer that finds the database taken waits in
SQLite's busy handler, which polls with growing sleeps (up to 100 ms each) and no order: under a
steady load of writes from several threads and processes a few unlucky writers keep losing, and
the slowest requests wait for seconds.

This backend queues writers before SQLite sees them: a lock per database within the process
(threads), then an exclusive flock(2) on "<database>-writer.lock" (processes: gunicorn workers,
the task worker, management commands). The kernel wakes the next waiter as soon as the holder
lets go. It is taken at BEGIN and let go at COMMIT or ROLLBACK, and around any single write run
outside a transaction (autocommit). Readers never take it (WAL: they do not wait for writers).
A writer that waits longer than settings.WANGGE_SQLITE_WRITER_TIMEOUT (both locks together) gets
WriterBusy, an OperationalError "database is locked" that pages and the API answer with 503 and
Retry-After (wangge.core.faults) instead of hanging. The file lock is waited for by a thread of
the process (the asking thread cannot be woken out of flock(2) when its time is up); a lock it
gets for a writer that has given up is let go at once.

flock(2) is not first come, first served: when the holder lets go, the kernel wakes the waiters,
and a holder that asks again at once (LOCK_NB, still on its CPU) often gets the lock back before a
woken waiter is even scheduled, and the other threads of the waiter's process (queued on the
process lock) get one turn per transaction of the holder at best. A bulk writer (an import: short
transactions back to back) starves the others: threads writing now and then behind 0.25 s
transactions back to back waited up to 1.2 s for the lock on a quiet 2-core machine, 2-4 s on a
loaded one (the test in core/tests/test_sqlite_writer.py). So interactive writers go first: while
any thread of a process waits for the writer lock, the process holds a shared flock on
"<database>-waiting.lock" (from before it waits until it holds the writer lock); a connection
marked bulk_writer (set by the undo journal, core.sqlite.journal, for the import's connection)
first tries an exclusive flock on that file without waiting, let go at once: while it fails,
someone is waiting, and the bulk writer sleeps BULK_POLL_SECONDS and tries again, for at most
settings.WANGGE_SQLITE_BULK_YIELD_SECONDS, then takes its turn at the writer lock anyway (a bulk
writer must not starve either). Bulk writers do not announce their own waits.

Checkpoints (copying the write-ahead log back into the database file, with an fsync) are taken
off the writers' path: SQLite's automatic checkpoint runs inside the COMMIT that crosses its
threshold, i.e. while that writer still holds the lock, and made every writer behind it wait
(a mean COMMIT of 0.95 ms against a median of 0.26 ms). Here it is off, and every
CHECKPOINT_EVERY writes in a process, the writer runs a PASSIVE checkpoint after it has let go
of the lock; writers go on appending to the log meanwhile.
"""

import fcntl
import itertools
import os
import queue
import sqlite3
import threading
import time

from django.conf import settings
from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
CHECKPOINT_EVERY = 32  # writes in this process (a big import's batch is one write: its log stays small)
_writes = itertools.count(1)
BULK_POLL_SECONDS = 0.005  # a bulk writer's sleep while another writer waits for the lock


class _Checkpointer:
    def __init__(self, name: str):
        self.lock = threading.Lock()
        self.connection = sqlite3.connect(name, check_same_thread=False, isolation_level=None)


_checkpointers: dict[tuple[int, str], _Checkpointer] = {}


def _checkpointer(name: str) -> _Checkpointer:
    key = (os.getpid(), name)  # a forked child opens its own: SQLite connections do not cross a fork
    with _process_locks_guard:
        if key not in _checkpointers:
            _checkpointers[key] = _Checkpointer(name)
        return _checkpointers[key]


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


class WriterBusy(OperationalError):
    """The writer lock was not free within the timeout: answered 503 with Retry-After."""


class _FlockRequest:
    def __init__(self, fd: int):
        self.fd = fd  # a descriptor of its own: a lock granted late is let go without touching anyone else's
        self.done = threading.Event()
        self.guard = threading.Lock()
        self.cancelled = self.granted = self.finished = False  # changed under guard only


class _FlockWaiter:
    """A thread per process and lock file that waits in flock(2) for the writer that asked: the
    process lock lets one thread of the process ask at a time, and that one waits on an Event with
    its timeout instead of in the kernel."""

    def __init__(self):
        self.requests: queue.SimpleQueue[_FlockRequest] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="sqlite-writer-flock", daemon=True).start()

    def _run(self):
        while True:
            request = self.requests.get()
            try:
                fcntl.flock(request.fd, fcntl.LOCK_EX)
                ok = True
            except OSError:
                ok = False
            with request.guard:
                if request.cancelled:
                    if ok:
                        fcntl.flock(request.fd, fcntl.LOCK_UN)
                    os.close(request.fd)
                else:
                    request.granted = ok
                request.finished = True
            request.done.set()

    def wait(self, path: str, timeout: float) -> int | None:
        """A descriptor of path holding the lock, or None when the timeout passed first."""
        request = _FlockRequest(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644))
        self.requests.put(request)
        request.done.wait(timeout)
        with request.guard:
            if request.finished:  # (not done: the Event is set just after the guard is let go)
                if request.granted:
                    return request.fd
                os.close(request.fd)
                return None
            request.cancelled = True  # the waiter lets it go (and closes it) when it gets it
            return None


_flock_waiters: dict[tuple[int, str], _FlockWaiter] = {}


def _flock_waiter(path: str) -> _FlockWaiter:
    key = (os.getpid(), path)  # threads do not cross a fork
    with _process_locks_guard:
        if key not in _flock_waiters:
            _flock_waiters[key] = _FlockWaiter()
        return _flock_waiters[key]


class _Waiting:
    """The waiting writers of this process and lock file: while there is any, a shared flock on
    "<database>-waiting.lock" (one descriptor per process and file), which bulk writers check."""

    def __init__(self, path: str):
        self.path = path
        self.guard = threading.Lock()
        self.count = 0  # changed under guard only, with the flock
        self.fd = None

    def enter(self):
        with self.guard:
            if self.count == 0:
                if self.fd is None:
                    self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(self.fd, fcntl.LOCK_SH)  # waits only while a bulk writer checks (a moment)
            self.count += 1

    def leave(self):
        with self.guard:
            self.count -= 1
            if self.count == 0:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


_waitings: dict[tuple[int, str], _Waiting] = {}


def _waiting(path: str) -> _Waiting:
    key = (os.getpid(), path)  # a forked child announces on a descriptor of its own
    with _process_locks_guard:
        if key not in _waitings:
            _waitings[key] = _Waiting(path)
        return _waitings[key]


def _let_waiters_first(path: str) -> None:
    """A bulk writer's turn comes after the writers waiting now (for at most the bulk yield)."""
    deadline = time.monotonic() + bulk_yield_seconds()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a writer waits (a shared lock is held)
                if time.monotonic() >= deadline:
                    return
                time.sleep(BULK_POLL_SECONDS)
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
    finally:
        os.close(fd)


def writer_timeout() -> float:
    return float(getattr(settings, "WANGGE_SQLITE_WRITER_TIMEOUT", 10))


def bulk_yield_seconds() -> float:
    return float(getattr(settings, "WANGGE_SQLITE_BULK_YIELD_SECONDS", 2))


class CursorWrapper(base.SQLiteCursorWrapper):
    db = None  # the DatabaseWrapper, set by create_cursor

    def execute(self, query, params=None):
        return self._run(super().execute, query, params)

    def executemany(self, query, param_list):
        return self._run(super().executemany, query, param_list)

    def _run(self, run, query, params):
        """A write outside a transaction takes the writer lock for itself (a checkpoint now and then after)."""
        if self.db is None or not self.db.autocommit_write(query):
            return run(query, params)
        with self.db.writer():
            result = run(query, params)
        self.db.checkpoint_now_and_then()
        return result


class _Writer:
    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.acquire_writer()

    def __exit__(self, *exc):
        self.db.release_writer()


class DatabaseWrapper(base.DatabaseWrapper):
    bulk_writer = False  # True: this connection's writes let waiting writers go first (an import)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer_held = False
        self._lock_fd = None
        self._held_fd = None  # the descriptor that holds the file lock (ours, or one the waiter got)

    # -- the writer lock

    def _lock_path(self, kind: str = "writer") -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}-{kind}.lock"

    def acquire_writer(self):
        path = self._lock_path()
        if path is None or self._writer_held:
            return
        if self.bulk_writer:
            _let_waiters_first(self._lock_path("waiting"))
        waiting = None if self.bulk_writer else _waiting(self._lock_path("waiting"))
        announced = False
        lock = _process_lock(path)
        timeout = writer_timeout()
        deadline = time.monotonic() + timeout
        try:
            if not lock.acquire(blocking=False):  # another thread of this process writes
                if waiting:
                    waiting.enter()
                    announced = True
                if not lock.acquire(timeout=timeout):
                    raise WriterBusy(f"database is locked (waited {timeout:g} s for the writer lock)")
            try:
                if self._lock_fd is None:
                    self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self._held_fd = self._lock_fd
                except BlockingIOError:  # another process writes: wait in line, at most until the deadline
                    if waiting and not announced:
                        waiting.enter()
                        announced = True
                    self._held_fd = _flock_waiter(path).wait(path, max(deadline - time.monotonic(), 0))
                    if self._held_fd is None:
                        raise WriterBusy(f"database is locked (waited {timeout:g} s for the writer lock)") from None
            except BaseException:
                lock.release()
                raise
        finally:
            if announced:  # only now: until this writer holds the file lock, bulk writers wait for it
                waiting.leave()
        self._writer_held = True

    def release_writer(self):
        if not self._writer_held:
            return
        self._writer_held = False
        held, self._held_fd = self._held_fd, None
        try:
            fcntl.flock(held, fcntl.LOCK_UN)
            if held != self._lock_fd:
                os.close(held)
        finally:
            _process_lock(self._lock_path()).release()

    def checkpoint_now_and_then(self):
        """After a write has let go of the lock: every CHECKPOINT_EVERY writes, a PASSIVE checkpoint,
        on a connection of its own (this one may still be reading the rows of an INSERT … RETURNING)."""
        path = self._lock_path()
        if path is None or next(_writes) % CHECKPOINT_EVERY:
            return
        checkpointer = _checkpointer(str(self.settings_dict["NAME"]))
        if checkpointer.lock.acquire(blocking=False):  # another thread is at it: that one will do
            try:
                checkpointer.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.OperationalError:
                pass  # busy now; the next one copies what this one would have
            finally:
                checkpointer.lock.release()

    def writer(self):
        return _Writer(self)

    def autocommit_write(self, query: str) -> bool:
        """A write that runs on its own (not inside a transaction, which holds the lock already)."""
        return not self._writer_held and not self.in_atomic_block and query.lstrip()[:7].upper().startswith(WRITES)

    # -- Django's hooks

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_EVERY
        return conn

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=CursorWrapper)
        cursor.db = self
        return cursor

    def _start_transaction_under_autocommit(self):
        self.acquire_writer()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self.release_writer()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self.release_writer()
        self.checkpoint_now_and_then()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self.release_writer()

    def _close(self):
        try:
            return super()._close()
        finally:
            self.release_writer()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
