"""Long imports on SQLite in short transactions, still all or nothing: an undo journal.

SQLite lets one writer in at a time, so an import in one transaction holds every other writer
(intake, the phone app, the worker) for as long as it runs. Here the import commits every 50 ms or
so (settings.WANGGE_SQLITE_IMPORT_TX_SECONDS) instead, and what it wrote stays undoable until it
finishes:

- TEMP triggers on the import's own connection (other connections never see them) write, for every
  row the import inserts, updates or deletes, the statement that undoes it into UndoEntry, in the
  same transaction as the row (the technique of https://www.sqlite.org/undoredo.html);
- the import holds an flock(2) on "<database>-undo-<journal id>.lock" while it runs, which the
  kernel lets go if the process dies;
- when it finishes, finished_at is set (one short write: the import now stands) and the entries are
  dropped in short batches; when it fails, the entries are applied newest first, in short batches
  (each batch deletes the entries it applied, so a crash mid-way resumes);
- recover() (run at the worker's start, by the hourly clean-up and before every batched import)
  undoes any unfinished journal whose lock nobody holds: the import of a process that died.

While a journal is open (and while recover() undoes one), the import's connection is a bulk writer
(core.sqlite.base: bulk_writer): before each of its transactions it lets the writers waiting for
the lock go first, so intake does not queue behind an import that asks again the moment it commits;
a writer that comes meanwhile waits for at most the transaction under way. Hence the short
transactions: on the loaded 2-core bench machine, 0.25 s ones put intake's p50/p99 at 185/580 ms
during an import, 0.1 s ones at 91/373 ms, 0.05 s ones at 49/188 ms, with the import no slower
(docs/benchmarks.md). After each commit the import pauses settings.WANGGE_SQLITE_IMPORT_BREATHER_SECONDS
(5 ms): waiting writers need no pause any more (20 ms or none measured the same), but another
bulk writer (a second import), which does not announce its wait, gets its turn in it.

Other writers may see the rows of an unfinished import (they are committed) until a failure
undoes them. Tables whose rows are not the import's data are left out: the journal itself, jobs
(their progress is written between batches), cache version rows (a version only ever moves on).
"""

import contextlib
import fcntl
import logging
import os
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

NOT_JOURNALED = {
    "core_undojournal",
    "core_undoentry",
    "jobs_job",
    "core_cacheversion",
    "areas_boundaryversion",
    "django_session",
    "django_migrations",
}
UNDO_BATCH = 2000  # entries applied or dropped per transaction


def in_batches() -> bool:
    """True when an import here should commit in batches: this project's SQLite engine, on a file,
    and not inside a transaction of the caller (which then stays the one all-or-nothing unit)."""
    return (
        connection.vendor == "sqlite"
        and connection.settings_dict["ENGINE"] == "wangge.core.sqlite"
        and not connection.is_in_memory_db()
        and not connection.in_atomic_block
    )


def transaction_seconds() -> float:
    return float(getattr(settings, "WANGGE_SQLITE_IMPORT_TX_SECONDS", 0.05))


def breather_seconds() -> float:
    """The pause after each of an import's commits."""
    return float(getattr(settings, "WANGGE_SQLITE_IMPORT_BREATHER_SECONDS", 0.005))


@contextlib.contextmanager
def bulk_writes():
    """This thread's connection, meanwhile, lets waiting writers take the lock before it."""
    before = getattr(connection, "bulk_writer", False)
    connection.bulk_writer = True
    try:
        yield
    finally:
        connection.bulk_writer = before


def _lock_path(journal_id: int) -> str:
    return f"{connection.settings_dict['NAME']}-undo-{journal_id}.lock"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


class Journal:
    """with Journal(name) as journal: … writes in short transactions …; journal.finish() keeps them,
    journal.undo() (or leaving the block with an exception) takes them back."""

    def __init__(self, name: str):
        self.name = name[:100]
        self.pk = None
        self._fd = None
        self._triggers: list[str] = []
        self._bulk_before = False

    def __enter__(self):
        self._bulk_before = getattr(connection, "bulk_writer", False)
        connection.bulk_writer = True  # until __exit__: see bulk_writes()
        try:
            return self._open()
        except BaseException:
            connection.bulk_writer = self._bulk_before
            raise

    def _open(self):
        from wangge.core.models import UndoJournal

        recover()
        self.pk = UndoJournal.objects.create(name=self.name).pk
        self._fd = os.open(_lock_path(self.pk), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # nobody else knows this journal yet: never waits
        self._install_triggers()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self._drop_triggers()
            if exc_type is not None and not self.settled:
                try:
                    self.undo()
                except Exception:
                    logger.exception("undo journal %s: undo failed; recover() will try again", self.pk)
        finally:
            try:
                self._release()
            finally:
                connection.bulk_writer = self._bulk_before

    settled = False  # finished or undone: nothing left for recover()

    # -- the triggers

    def _install_triggers(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND sql NOT LIKE 'CREATE VIRTUAL%'"
            )
            tables = [name for (name,) in cursor.fetchall() if name not in NOT_JOURNALED]
            for table in tables:
                cursor.execute(f"PRAGMA table_info({_quote(table)})")
                columns = [row[1] for row in cursor.fetchall()]
                self._triggers += self._create(cursor, table, columns)

    def _create(self, cursor, table: str, columns: list[str]) -> list[str]:
        t = _quote(table)
        log = f"INSERT INTO core_undoentry (journal_id, statement) VALUES ({int(self.pk)}, "
        sets = " || ',' || ".join(f"{_literal(_quote(c) + '=')} || quote(OLD.{_quote(c)})" for c in columns)
        values = " || ',' || ".join(f"quote(OLD.{_quote(c)})" for c in columns)
        names = ", ".join(_quote(c) for c in columns)
        bodies = {
            "INSERT": f"{_literal(f'DELETE FROM {t} WHERE rowid = ')} || NEW.rowid",
            "UPDATE": f"{_literal(f'UPDATE {t} SET ')} || {sets} || {_literal(' WHERE rowid = ')} || OLD.rowid",
            "DELETE": f"{_literal(f'INSERT INTO {t} (rowid, {names}) VALUES (')} || OLD.rowid || ',' || {values}"
            " || ')'",
        }
        made = []
        for event, body in bodies.items():
            name = _quote(f"undo_{self.pk}_{event.lower()}_{table}")
            cursor.execute(f"CREATE TEMP TRIGGER {name} AFTER {event} ON main.{t} BEGIN {log}{body}); END")
            made.append(name)
        return made

    def _drop_triggers(self):
        if not self._triggers or connection.connection is None:
            self._triggers = []
            return
        with connection.cursor() as cursor:
            for name in self._triggers:
                cursor.execute(f"DROP TRIGGER IF EXISTS temp.{name}")
        self._triggers = []

    def _release(self):
        if self._fd is not None:
            if self.settled:
                os.unlink(_lock_path(self.pk))
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    # -- the end: keep or take back

    def finish(self):
        """The import stands: one short write, then the entries go in short batches."""
        from wangge.core.models import UndoJournal

        self._drop_triggers()
        UndoJournal.objects.filter(pk=self.pk).update(finished_at=timezone.now())
        self.settled = True
        _purge(self.pk)

    def undo(self):
        self._drop_triggers()
        _undo(self.pk)
        self.settled = True


def _batches(journal_id: int, statement: str):
    """Run statement (on the journal's entries, newest first) in short transactions until none is left."""
    while True:
        with bulk_writes(), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, statement FROM core_undoentry WHERE journal_id = %s ORDER BY id DESC LIMIT {UNDO_BATCH}",
                [journal_id],
            )
            entries = cursor.fetchall()
            if not entries:
                cursor.execute("DELETE FROM core_undojournal WHERE id = %s", [journal_id])
                return
            if statement == "undo":
                for _id, sql in entries:
                    cursor.execute(sql)
            oldest = entries[-1][0]
            cursor.execute("DELETE FROM core_undoentry WHERE journal_id = %s AND id >= %s", [journal_id, oldest])
        time.sleep(breather_seconds())


def _undo(journal_id: int):
    _batches(journal_id, "undo")


def _purge(journal_id: int):
    _batches(journal_id, "purge")


def recover() -> list[str]:
    """Undo the unfinished journals of imports whose process is gone, and drop the entries of
    finished ones left behind; the names of the journals undone."""
    from wangge.core.models import UndoJournal

    if not in_batches():
        return []
    undone = []
    for pk, name, finished_at in UndoJournal.objects.values_list("pk", "name", "finished_at"):
        path = _lock_path(pk)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its import is running
            if finished_at is None:
                logger.warning("undo journal %s (%s): its import stopped unfinished; undoing it", pk, name)
                _undo(pk)
                undone.append(name)
            else:
                _purge(pk)
            os.unlink(path)
        finally:
            os.close(fd)
    return undone
