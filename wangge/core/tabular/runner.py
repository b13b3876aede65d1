"""The import runner: reads a file in batches, checks every row (duplicates in the file, the
spec's checks, the register's actions) and writes all or nothing (or the valid rows only)."""

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from ..imports import ImportRejected, RowError
from ..sqlite import journal
from .columns import ERROR_HEADER, ImportSpec, Row
from .reading import RowParser, Table, map_header
from .writing import TableWriter


class SeenValues:
    """The values of a unique column met so far in a file, and the line of each: 12 bytes a value
    (a 64-bit hash and the line, in sorted numpy runs), so that a file of millions of rows does not
    hold millions of Python strings. Hashes are compared, not values: two different values share a
    64-bit hash with a probability of about n²/2⁶⁵ (10⁻⁶ for 6 million rows), which would show as a
    false "duplicate of line …" on one row."""

    def __init__(self):
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, their lines), oldest first

    def check(self, values: list, lines: list[int]) -> list[int | None]:
        """For each value (in file order), the line where it was first met, or None when new (it is
        then remembered)."""
        n = len(values)
        hashes = np.fromiter((hash(v) for v in values), dtype=np.int64, count=n)
        earlier: list[int | None] = [None] * n
        for keys, key_lines in self.runs:
            pos = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
            for i in np.flatnonzero(keys[pos] == hashes):
                if earlier[i] is None:
                    earlier[i] = int(key_lines[pos[i]])
        first: dict[int, int] = {}
        new_keys, new_lines = [], []
        for i, h in enumerate(hashes.tolist()):
            if earlier[i] is not None:
                continue
            if h in first:
                earlier[i] = first[h]
            else:
                first[h] = lines[i]
                new_keys.append(h)
                new_lines.append(lines[i])
        if new_keys:
            self._add(np.asarray(new_keys, dtype=np.int64), np.asarray(new_lines, dtype=np.int32))
        return earlier

    def _add(self, keys: np.ndarray, lines: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], lines[order]))
        # Merge runs of similar size (a binary counter): few runs to search, each value merged log(n) times.
        while len(self.runs) > 1 and len(self.runs[-1][0]) * 2 >= len(self.runs[-2][0]):
            (k2, l2), (k1, l1) = self.runs.pop(), self.runs.pop()
            keys, lines = np.concatenate((k1, k2)), np.concatenate((l1, l2))
            order = np.argsort(keys, kind="stable")  # stable: an older line stays first among equals
            self.runs.append((keys[order], lines[order]))


def mark_duplicates(batch: list[Row], seen: dict[str, SeenValues]) -> None:
    """A value of a unique column met before in the file: "duplicate of line n" on the later row."""
    for key, values in seen.items():
        rows = [r for r in batch if r.ok and r.values.get(key) is not None]
        if not rows:
            continue
        earlier = values.check([r.values[key] for r in rows], [r.line for r in rows])
        for row, line in zip(rows, earlier, strict=True):
            if line is not None:
                row.error(key, _("duplicate of line %(n)d") % {"n": line})


@dataclass
class ImportOutcome:
    total: int = 0  # data rows read
    valid: int = 0
    written: int = 0
    counts: dict = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    error_count: int = 0
    rejected_rows: int = 0
    preview: list[dict] = field(default_factory=list)
    dry_run: bool = False
    partial: bool = False

    @property
    def rejected(self) -> bool:
        """All-or-nothing with errors: nothing was written."""
        return bool(self.error_count) and not self.partial

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "valid": self.valid,
            "written": self.written,
            "counts": {k: v for k, v in self.counts.items() if v},
            "error_count": self.error_count,
            "rejected_rows": self.rejected_rows,
            "errors": [{"line": e.line, "column": e.field, "reason": e.reason} for e in self.errors],
            "preview": self.preview,
            "dry_run": self.dry_run,
            "partial": self.partial,
        }


MAX_ERRORS_KEPT = 1000


class _Rollback(Exception):
    pass


def run_import(
    spec: ImportSpec,
    path: str | Path,
    user,
    *,
    filename: str = "",
    dry_run: bool = False,
    partial: bool = False,
    preview_rows: int = 20,
    progress: Callable[[int, int], None] | None = None,
    rejected_path: str | Path | None = None,
    journal_name: str = "",
) -> ImportOutcome:
    """Read, check and (unless dry_run) write a file, all or nothing.

    All or nothing by default: any bad row and nothing is written. partial=True writes the valid
    rows and leaves the bad ones out. Every bad row is listed with its line, column and reason; the
    bad rows themselves (same columns + 错误) go to rejected_path, if given (.csv or .xlsx), so they
    can be fixed and imported again. progress(done, total) is called after every batch.

    One transaction on PostgreSQL (its writers do not wait for each other) or inside a caller's
    transaction. On SQLite, where a transaction holds every other writer, the rows are written in
    short transactions (settings.WANGGE_SQLITE_IMPORT_TX_SECONDS) under an undo journal
    (core.sqlite.journal, named journal_name): a refused file, an error or a crash undoes them.
    """
    table = Table(path, filename)
    name = table.filename
    outcome = ImportOutcome(dry_run=dry_run, partial=partial)
    mapped, header_errors = map_header(spec, table.header, name)
    if header_errors:
        table.close()
        outcome.errors, outcome.error_count = header_errors, len(header_errors)
        return outcome
    batched = not dry_run and journal.in_batches()
    rejected = RejectedWriter(rejected_path, spec) if rejected_path else None
    total = table.estimated_rows
    seen = {c.key: SeenValues() for c in spec.columns if c.unique}
    spec.begin(user, filename=name, dry_run=dry_run)
    # A spec whose action is the only complete check (dry_run_writes) is checked by writing inside
    # transactions that are always rolled back; others are checked by check() alone.
    writes_to_check = spec.dry_run_writes
    stop_writing = dry_run and not writes_to_check
    pace = _Pace(journal.transaction_seconds())

    def add_errors(row: Row):
        outcome.error_count += len(row.errors)
        room = MAX_ERRORS_KEPT - len(outcome.errors)
        if room > 0:
            outcome.errors.extend(row.errors[:room])
        outcome.rejected_rows += 1
        if rejected:
            rejected.add(row)

    def check_by_writing(good: list[Row]):
        # Each batch in its own transaction, always rolled back, so that other writers get their
        # turn between batches (on SQLite one writer holds the lock).
        try:
            with transaction.atomic():
                spec.write(good, user)
                raise _Rollback
        except _Rollback:
            pass

    def write(good: list[Row]):
        if not batched:
            return spec.write(good, user) or {}
        counts, done = {}, 0
        while done < len(good):  # short transactions: the others' turn between them
            chunk = good[done : done + pace.size()]
            with transaction.atomic():
                start = time.perf_counter()  # from BEGIN: the wait for the lock is not the import's pace
                for key, n in (spec.write(chunk, user) or {}).items():
                    counts[key] = counts.get(key, 0) + n
                pace.record(len(chunk), time.perf_counter() - start)
            done += len(chunk)
            time.sleep(journal.breather_seconds())
        return counts

    def handle(batch: list[Row]):
        nonlocal stop_writing
        spec.check(batch, user)  # every row, so that a row's errors are all listed at once
        if any(not r.ok for r in batch) and not partial and not writes_to_check:
            stop_writing = True  # the file will be refused: check the rest, write nothing more
        good = [r for r in batch if r.ok]
        if good and not stop_writing:
            # The writer may refuse rows too (the register's action has the last word): row.error().
            if dry_run or (batched and outcome.error_count and not partial):
                check_by_writing(good)  # (batched: the file is refused already, and its rows are undone)
            else:
                for key, n in write(good).items():
                    outcome.counts[key] = outcome.counts.get(key, 0) + n
                outcome.written += sum(1 for r in good if r.ok)
        outcome.valid += sum(1 for r in batch if r.ok)
        for row in batch:
            if len(outcome.preview) < preview_rows:
                outcome.preview.append(
                    {
                        "line": row.line,
                        "values": [display(row.values.get(c.key)) for c in spec.columns],
                        "ok": row.ok,
                    }
                )
            if not row.ok:
                add_errors(row)
        if outcome.error_count and not partial and not writes_to_check:
            stop_writing = True
        outcome.total += len(batch)
        if progress:
            progress(outcome.total, max(total, outcome.total))

    def read_all():
        batch: list[Row] = []
        parse = RowParser(spec, mapped, name)
        for line, cells in table.rows():
            batch.append(parse(line, cells))
            if len(batch) >= spec.batch_size:
                mark_duplicates(batch, seen)
                handle(batch)
                batch = []
        if batch:
            mark_duplicates(batch, seen)
            handle(batch)
        if outcome.total == 0:
            outcome.errors.append(RowError(name, 0, _("The file has no data rows.")))
            outcome.error_count += 1

    # A dry run takes no transaction around the whole file (on SQLite that would hold the lock).
    try:
        if batched:
            with journal.Journal(journal_name or f"import {spec.name} {name}") as undo:
                read_all()
                if outcome.error_count and not partial:
                    undo.undo()
                    raise _Rollback
                undo.finish()
        else:
            with contextlib.nullcontext() if dry_run else transaction.atomic():
                read_all()
                if outcome.error_count and not partial and not dry_run:
                    raise _Rollback
    except _Rollback:
        outcome.written = 0
        outcome.counts = {}
    finally:
        spec.end()
        if rejected:
            rejected.close()
    if progress:
        progress(outcome.total, outcome.total)
    return outcome


class _Pace:
    """How many rows a transaction takes so that it lasts about `seconds`, from the rows per second
    measured inside the transactions so far (not counting the wait for the lock)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.rate = 0.0  # rows per second, measured

    def size(self) -> int:
        return max(1, int(self.rate * self.seconds)) if self.rate else 10

    def record(self, rows: int, seconds: float) -> None:
        rate = rows / max(seconds, 1e-6)
        self.rate = rate if not self.rate else 0.5 * self.rate + 0.5 * rate


def run_import_or_raise(spec: ImportSpec, path, user, **kwargs) -> ImportOutcome:
    """run_import(), raising ImportRejected (every error listed) when an all-or-nothing import is refused."""
    outcome = run_import(spec, path, user, **kwargs)
    if outcome.error_count and not kwargs.get("partial") and not kwargs.get("dry_run"):
        raise ImportRejected(outcome.errors)
    return outcome


def display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, Decimal, int, float)):
        return str(value)
    return str(value)


class RejectedWriter:
    """The rejected rows as a file of the same columns plus 错误 (the reasons)."""

    def __init__(self, path, spec: ImportSpec):
        self.spec, self.path = spec, Path(path)
        header = [*spec.headers(), ERROR_HEADER]
        self.writer = TableWriter(self.path, header)

    def add(self, row: Row):
        reasons = "；".join(f"{e.field}: {e.reason}" if e.field else e.reason for e in row.errors)
        self.writer.write([*(row.raw.get(c.key, "") for c in self.spec.columns), f"第{row.line}行 {reasons}"])

    def close(self):
        self.writer.close()
