"""Writing tables: CSV/XLSX files (rejected rows, exports) safe from formula injection, the import
templates, and the exports (ExportSpec: the user's rows, personal data only masked)."""

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .columns import ImportSpec


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
        from .. import pii

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
