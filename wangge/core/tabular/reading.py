"""Reading a CSV (UTF-8 or GBK, detected) or XLSX file as a stream of rows, mapping its header to
a spec's columns, and parsing each row's cells."""

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from ..imports import RowError
from .columns import ERROR_HEADER, CellError, Column, ImportSpec, Row, normalize_header
from .writing import undefuse

SNIFF_BYTES = 1 << 20


class FileProblem(ValueError):
    """The file as a whole cannot be read (empty, wrong headers, not CSV/XLSX…)."""


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
