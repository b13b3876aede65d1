"""Tables in and out of the registers: a declarative column spec per register, streamed CSV/XLSX
reading with per-row errors, the all-or-nothing (or valid-rows-only) import runner, the XLSX
template, and streamed CSV/XLSX writing for exports.

No models here: a register describes its table with an ImportSpec / ExportSpec (in its own app,
next to its actions), and the spec writes through the register's actions. The jobs app runs
these in the request or in the worker and keeps the files. See docs/architecture.md.
"""

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from .imports import ImportRejected, RowError

ERROR_HEADER = "错误"  # the extra column of a rejected-rows file; ignored when the file is imported again
SNIFF_BYTES = 1 << 20


class CellError(ValueError):
    """A parser's refusal of one cell; the message is the reason shown to the user."""


class FileProblem(ValueError):
    """The file as a whole cannot be read (empty, wrong headers, not CSV/XLSX…)."""


# ---------------------------------------------------------------- column spec


@dataclass(frozen=True)
class Column:
    key: str  # the field name the spec's writer reads; also accepted as a header
    header: str  # the Chinese header of the template
    required: bool = False
    parse: Callable[[str], object] | None = None  # text → value; raises CellError (or ValueError) with the reason
    aliases: tuple[str, ...] = ()  # other accepted headers (English names…)
    unique: bool = False  # a value may appear only once in a file
    example: str = ""
    note: str = ""

    def names(self) -> set[str]:
        return {normalize_header(n) for n in (self.key, self.header, *self.aliases)}


def normalize_header(text) -> str:
    return re.sub(r"[\s*＊:：]", "", str(text or "")).lower()


@dataclass
class Row:
    """One data row: its line in the file, the text of each column, the parsed values, its errors."""

    line: int
    raw: dict[str, str]
    values: dict[str, object] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    spec: "ImportSpec | None" = None
    file: str = ""

    def error(self, key: str, reason: str) -> None:
        header = self.spec.column(key).header if self.spec and key else key
        self.errors.append(RowError(self.file, self.line, reason, header))

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportSpec:
    """A register's import: columns, batch checks against the database, and the write.

    Subclasses set name, title, columns and implement permitted() and write(); check() is for
    rules that need the database (existence of referenced rows, duplicates already stored,
    jurisdiction) and runs on a batch of rows that passed the column parsers.
    """

    name = ""
    title = ""
    columns: list[Column] = []
    batch_size = 500
    list_url = ""  # where the imported rows are seen
    # True: the dry run writes through write() and rolls back, so that every rule of the register's
    # actions is checked (at the price of a write transaction); False: check() is the whole check.
    dry_run_writes = False
    ignored_headers: tuple[str, ...] = ()  # informative columns of an export, skipped on import

    def permitted(self, user) -> bool:
        raise NotImplementedError

    def check(self, rows: list[Row], user) -> None:
        """Add errors to rows (row.error(key, reason)) or resolve values for write(). Runs on every
        row of a batch, also those with errors already; a value that did not parse is None."""

    def write(self, rows: list[Row], user) -> dict:
        """Write valid rows through the register's actions; return counts, e.g. {"created": n}."""
        raise NotImplementedError

    def begin(self, user, *, filename: str, dry_run: bool) -> None:
        """Called once before the first batch (the spec instance serves one import): e.g. to set up
        a bulk action's state for the whole file."""

    def end(self) -> None:
        """Called once after the last batch (written, rolled back or failed), to undo begin()."""

    def after_import(self, user) -> None:
        """Called once rows have been imported for real (e.g. queue a screening)."""

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


# ---------------------------------------------------------------- parsers


def text(max_length: int | None = None) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if max_length and len(value) > max_length:
            raise CellError(_("at most %(n)d characters (this one has %(m)d)") % {"n": max_length, "m": len(value)})
        return value

    parse.max_length = (
        max_length  # RowParser checks the length itself (no call per cell) and calls parse only when over
    )
    return parse


def choice(choices, synonyms: dict[str, str] | None = None) -> Callable[[str], str]:
    """A choice by its stored value, its English label, its Chinese label or a synonym."""
    accepted: dict[str, str] = {k.lower(): v for k, v in (synonyms or {}).items()}
    for value, label in choices:
        accepted[str(value).lower()] = value
        with translation.override("en"):
            accepted[str(label).lower()] = value
        with translation.override("zh-hans"):
            accepted[str(label).lower()] = value

    def parse(text_value: str) -> str:
        found = accepted.get(text_value.strip().lower())
        if found is None:
            with translation.override("zh-hans"):
                labels = "、".join(str(label) for _value, label in choices)
            raise CellError(_("%(v)s is not one of: %(labels)s") % {"v": text_value, "labels": labels})
        return found

    return parse


_TRUE = {"是", "y", "yes", "true", "1", "启用", "有效", "√"}
_FALSE = {"否", "n", "no", "false", "0", "停用", "无效", "×"}


def boolean(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise CellError(_("%(v)s is not yes/no (是/否)") % {"v": value})


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise CellError(_("%(v)s is not a whole number") % {"v": value}) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise CellError(_("%(v)s is outside %(a)s–%(b)s") % {"v": value, "a": minimum, "b": maximum})
        return number

    return parse


def decimal_number(minimum: float | None = None, maximum: float | None = None) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise CellError(_("%(v)s is not a number") % {"v": value}) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise CellError(_("%(v)s is outside %(a)s–%(b)s") % {"v": value, "a": minimum, "b": maximum})
        return number

    return parse


def date(value: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise CellError(_("%(v)s is not a date (YYYY-MM-DD)") % {"v": value})


# ---------------------------------------------------------------- reading


def detect_encoding(sample: bytes, complete: bool) -> str:
    """utf-8-sig when the sample is UTF-8 (a character cut at the end of the sample is fine), else
    gb18030 (a superset of GBK and GB2312, what Excel on Chinese Windows writes)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class Table:
    """A CSV or XLSX file, streamed: header, an estimate of the data rows, and (line, values) pairs."""

    def __init__(self, path: str | Path, filename: str = ""):
        self.path = Path(path)
        self.filename = filename or self.path.name
        suffix = Path(self.filename).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            self.kind = "xlsx"
        elif suffix in (".csv", ".txt", ""):
            self.kind = "csv"
        else:
            raise FileProblem(_("Unsupported file type %(s)s: use CSV or XLSX.") % {"s": suffix})
        self.header: list[str] = []
        self.estimated_rows = 0
        self.encoding = ""
        self._open()

    def _open(self):
        if self.path.stat().st_size == 0:
            raise FileProblem(_("The file is empty."))
        if self.kind == "xlsx":
            import openpyxl
            from openpyxl.utils.exceptions import InvalidFileException

            try:
                self._workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            except (InvalidFileException, KeyError, OSError, ValueError) as exc:
                raise FileProblem(_("Not a readable XLSX file: %(e)s") % {"e": exc}) from None
            except Exception as exc:  # zipfile.BadZipFile and friends
                raise FileProblem(_("Not a readable XLSX file: %(e)s") % {"e": exc}) from None
            sheet = self._workbook.worksheets[0]
            self._rows = sheet.iter_rows(values_only=True)
            first = next(self._rows, None)
            self.header = [_cell_text(v) for v in (first or ())]
            while self.header and not self.header[-1]:
                self.header.pop()
            self.estimated_rows = max((sheet.max_row or 1) - 1, 0)
            self._line = 1
        else:
            with open(self.path, "rb") as f:
                sample = f.read(SNIFF_BYTES)
                complete = len(sample) < SNIFF_BYTES
            self.encoding = detect_encoding(sample, complete)
            self._file = open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115 (closed in close())
            self._reader = csv.reader(self._file)
            try:
                self.header = [h.strip() for h in next(self._reader)]
            except StopIteration:
                self.header = []
            except UnicodeDecodeError:
                raise FileProblem(_("The file is neither UTF-8 nor GBK text.")) from None
            with open(self.path, "rb") as f:
                self.estimated_rows = max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")), 1)
            self.estimated_rows -= 1
        if not any(self.header):
            self.close()
            raise FileProblem(_("The file has no header row."))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, cell texts) of each non-empty data row; line 1 is the header."""
        try:
            if self.kind == "xlsx":
                line = 1
                for values in self._rows:
                    line += 1
                    cells = [undefuse(_cell_text(v)) for v in values]
                    if any(cells):
                        yield line, cells
            else:
                reader = self._reader
                while True:
                    try:
                        values = next(reader)
                    except StopIteration:
                        return
                    except UnicodeDecodeError:
                        raise FileProblem(
                            _("Undecodable text after line %(n)d (the file mixes encodings).") % {"n": reader.line_num}
                        ) from None
                    except csv.Error as exc:
                        raise FileProblem(_("Line %(n)d: %(e)s") % {"n": reader.line_num, "e": exc}) from None
                    cells = [v.strip() for v in values]
                    if not any(cells):
                        continue
                    if "'" in "".join(cells):  # rare: a defused formula cell (see defuse)
                        cells = [undefuse(c) for c in cells]
                    yield reader.line_num, cells
        finally:
            self.close()

    def close(self):
        if getattr(self, "_file", None):
            self._file.close()
        if getattr(self, "_workbook", None):
            self._workbook.close()


def map_header(spec: ImportSpec, header: list[str], filename: str) -> tuple[list[Column | None], list[RowError]]:
    """Which spec column each file column holds (None: the error column of a rejected file)."""
    by_name = {}
    for column in spec.columns:
        for name in column.names():
            by_name[name] = column
    mapped, errors, seen = [], [], {}
    ignored = {normalize_header(h) for h in spec.ignored_headers}
    for position, title in enumerate(header, start=1):
        name = normalize_header(title)
        if name in (normalize_header(ERROR_HEADER), "error", "") or name in ignored:
            mapped.append(None)
            continue
        column = by_name.get(name)
        if column is None:
            errors.append(
                RowError(
                    filename,
                    1,
                    _("unknown column %(h)s; the columns are: %(all)s")
                    % {"h": title, "all": "、".join(spec.headers())},
                    title,
                )
            )
        elif column.key in seen:
            errors.append(
                RowError(filename, 1, _("column given twice (also column %(n)d)") % {"n": seen[column.key]}, title)
            )
        else:
            seen[column.key] = position
        mapped.append(column)
    for column in spec.columns:
        if column.required and column.key not in seen:
            errors.append(RowError(filename, 1, _("required column is missing"), column.header))
    return mapped, errors


class RowParser:
    """Cells of a data row → Row (raw texts by column key, parsed values, errors); the column plan
    is worked out once per file, since this runs for every row."""

    def __init__(self, spec: ImportSpec, mapped: list[Column | None], filename: str):
        self.spec, self.filename = spec, filename
        self.keys = [c.key if c is not None else "" for c in mapped]
        # (key, parser, required, the longest text when the parser is a plain text(n): no call then)
        self.plan = [(c.key, c.parse, c.required, getattr(c.parse, "max_length", None) or None) for c in spec.columns]

    def __call__(self, line: int, cells: list[str]) -> Row:
        raw = dict(zip(self.keys, cells, strict=False))
        raw.pop("", None)
        values: dict[str, object] = {}
        row = Row(line, raw, values, [], self.spec, self.filename)
        for key, parse, required, longest in self.plan:
            value = raw.get(key)
            if not value:
                values[key] = None
                if required:
                    row.error(key, _("required"))
            elif parse is None or (longest is not None and len(value) <= longest):
                values[key] = value
            else:
                try:
                    values[key] = parse(value)
                except (CellError, ValueError) as exc:
                    values[key] = None
                    row.error(key, str(exc) or _("invalid value"))
        return row


def parse_row(spec: ImportSpec, mapped: list[Column | None], line: int, cells: list[str], filename: str) -> Row:
    return RowParser(spec, mapped, filename)(line, cells)


# ---------------------------------------------------------------- the import runner


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
) -> ImportOutcome:
    """Read, check and (unless dry_run) write a file, in one transaction.

    All or nothing by default: any bad row and nothing is written. partial=True writes the valid
    rows and leaves the bad ones out. Every bad row is listed with its line, column and reason; the
    bad rows themselves (same columns + 错误) go to rejected_path, if given (.csv or .xlsx), so they
    can be fixed and imported again. progress(done, total) is called after every batch.
    """
    table = Table(path, filename)
    name = table.filename
    outcome = ImportOutcome(dry_run=dry_run, partial=partial)
    mapped, header_errors = map_header(spec, table.header, name)
    if header_errors:
        table.close()
        outcome.errors, outcome.error_count = header_errors, len(header_errors)
        return outcome
    rejected = RejectedWriter(rejected_path, spec) if rejected_path else None
    total = table.estimated_rows
    seen = {c.key: SeenValues() for c in spec.columns if c.unique}
    spec.begin(user, filename=name, dry_run=dry_run)
    # A spec whose action is the only complete check (dry_run_writes) is checked by writing inside
    # transactions that are always rolled back; others are checked by check() alone.
    writes_to_check = spec.dry_run_writes
    stop_writing = dry_run and not writes_to_check

    def add_errors(row: Row):
        outcome.error_count += len(row.errors)
        room = MAX_ERRORS_KEPT - len(outcome.errors)
        if room > 0:
            outcome.errors.extend(row.errors[:room])
        outcome.rejected_rows += 1
        if rejected:
            rejected.add(row)

    def handle(batch: list[Row]):
        nonlocal stop_writing
        spec.check(batch, user)  # every row, so that a row's errors are all listed at once
        if any(not r.ok for r in batch) and not partial and not writes_to_check:
            stop_writing = True  # the file will be refused: check the rest, write nothing more
        good = [r for r in batch if r.ok]
        if good and not stop_writing:
            # The writer may refuse rows too (the register's action has the last word): row.error().
            if dry_run:
                # Checked by writing: each batch in its own transaction, always rolled back, so that
                # other writers get their turn between batches (on SQLite one writer holds the lock).
                try:
                    with transaction.atomic():
                        spec.write(good, user)
                        raise _Rollback
                except _Rollback:
                    pass
            else:
                for key, n in (spec.write(good, user) or {}).items():
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

    # A dry run takes no transaction around the whole file (on SQLite that would hold the lock).
    try:
        with contextlib.nullcontext() if dry_run else transaction.atomic():
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


# ---------------------------------------------------------------- writing (exports, templates, rejected rows)


class TableWriter:
    """Rows to .csv (UTF-8 with BOM, so that Excel opens it) or .xlsx (openpyxl write-only, streamed)."""

    def __init__(self, path: str | Path, header: list[str]):
        self.path = Path(path)
        self.rows = 0
        if self.path.suffix.lower() == ".xlsx":
            import openpyxl

            self._book = openpyxl.Workbook(write_only=True)
            self._sheet = self._book.create_sheet("数据")
            self._sheet.append(header)
            self._file = None
        else:
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._file)
            self._csv.writerow(header)

    def write(self, values: list):
        self.rows += 1
        if self._file is None:
            self._sheet.append([self._xlsx_cell(v) for v in values])
        else:
            self._csv.writerow(["" if v is None else defuse(v) for v in values])

    def _xlsx_cell(self, value):
        value = _xlsx_value(value)
        if isinstance(value, str) and value[:1] == "=":
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self._sheet, value=value)
            cell.data_type = "s"  # text as typed, never a formula
            return cell
        return value

    def close(self):
        if self._file is None:
            if self._book is not None:
                self._book.save(self.path)
                self._book = None
        elif not self._file.closed:
            self._file.close()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def defuse(value):
    """A text cell that a spreadsheet would run as a formula (=, +, -, @ …) gets a leading ' in CSV
    files (CSV injection); numbers stay as they are. The import takes the ' off again."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def undefuse(text: str) -> str:
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_value(value):
    if isinstance(value, str):
        return _ILLEGAL_XLSX.sub("", value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None)
    return value


def template_xlsx(spec: ImportSpec) -> bytes:
    """The import template: a data sheet with the Chinese headers (required ones in red, every
    column as text so that codes and ID numbers keep their leading zeros and digits), and a
    notes sheet with each column's rule and an example row."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "数据"
    bold_red, bold = Font(bold=True, color="B91C1C"), Font(bold=True)
    for i, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=i, value=column.header)
        cell.font = bold_red if column.required else bold
        cell.fill = PatternFill("solid", fgColor="EEF2F7")
        if column.note:
            cell.comment = Comment(column.note, "wangge")
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4, len(column.example) + 4)
        sheet.column_dimensions[letter].number_format = "@"  # text: codes and ID numbers stay as typed
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    notes.append([f"{spec.title}导入模板"])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append(["在“数据”工作表第 2 行起每行填写一条记录；红色表头为必填列。不要改动表头。"])
    notes.append(["导入前先预检（试运行）：每一行的错误都会列出行号、列名和原因；默认全部正确才写入。"])
    notes.append([])
    notes.append(["列名", "必填", "英文名", "说明", "示例"])
    for cell in notes[5]:
        cell.font = bold
    for column in spec.columns:
        notes.append([column.header, "是" if column.required else "否", column.key, column.note, column.example])
    notes.append([])
    notes.append(["示例行"])
    notes.cell(row=notes.max_row, column=1).font = bold
    notes.append(spec.headers())
    notes.append([c.example for c in spec.columns])
    for letter, width in zip("ABCDE", (18, 8, 16, 60, 24), strict=False):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(spec: ImportSpec) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(spec.headers())
    return out.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- exports


MASKS = {}


def _masks():
    if not MASKS:
        from . import pii

        MASKS.update({"phone": pii.mask_phone, "id_number": pii.mask_id_number})
    return MASKS


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[object], object]  # the object → a cell value
    mask: str = ""  # "phone" or "id_number": the value is masked, never written in clear

    def cell(self, obj):
        value = self.value(obj)
        if self.mask:
            return _masks()[self.mask](value or "")
        return value


class ExportSpec:
    """A register's export: which rows the user may take, and the columns."""

    name = ""
    title = ""
    columns: list[ExportColumn] = []
    filters: tuple[str, ...] = ()  # the GET parameters that queryset() reads (kept by the Export button)

    def permitted(self, user) -> bool:
        return user.is_authenticated

    def queryset(self, user, params: dict):
        """The user's rows (restricted to the jurisdiction), filtered by params."""
        raise NotImplementedError

    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def row(self, obj) -> list:
        return [c.cell(obj) for c in self.columns]


def export_rows(spec: ExportSpec, queryset, chunk_size: int = 2000) -> Iterable[list]:
    for obj in queryset.iterator(chunk_size=chunk_size):
        yield spec.row(obj)


class _Echo:
    def write(self, value):
        return value


def csv_stream(spec: ExportSpec, queryset) -> Iterator[str]:
    """The export as CSV text, one line at a time (for a StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(spec.headers())
    for values in export_rows(spec, queryset):
        yield writer.writerow([defuse(_csv_value(v)) for v in values])


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value.tzinfo else value.isoformat(sep=" ")
    return value


def write_export(
    spec: ExportSpec, queryset, path: str | Path, progress: Callable[[int, int], None] | None = None, every: int = 2000
) -> int:
    """The export to a .csv or .xlsx file; the number of rows."""
    total = queryset.count() if progress else 0
    writer = TableWriter(path, spec.headers())
    try:
        for values in export_rows(spec, queryset):
            writer.write([_csv_value(v) if Path(path).suffix == ".csv" else _export_xlsx(v) for v in values])
            if progress and writer.rows % every == 0:
                progress(writer.rows, max(total, writer.rows))
    finally:
        writer.close()
    if progress:
        progress(writer.rows, writer.rows)
    return writer.rows


def _export_xlsx(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    return value
