"""Column specs and cell parsers: how a register declares its table (ImportSpec, Column), the
parsed row (Row), and the parsers that turn a cell's text into a value or a clear reason."""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from ..imports import RowError

ERROR_HEADER = "错误"  # the extra column of a rejected-rows file; ignored when the file is imported again


class CellError(ValueError):
    """A parser's refusal of one cell; the message is the reason shown to the user."""


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
