"""Tables in and out of the registers: a declarative column spec per register, streamed CSV/XLSX
reading with per-row errors, the all-or-nothing (or valid-rows-only) import runner, the XLSX
template, and streamed CSV/XLSX writing for exports.

No models here: a register describes its table with an ImportSpec / ExportSpec (in its own app,
next to its actions), and the spec writes through the register's actions. The jobs app runs
these in the request or in the worker and keeps the files. See docs/architecture.md.

The package is split by sub-domain (columns: specs and parsers; reading; runner; writing:
templates and exports); every name is importable from wangge.core.tabular itself.
"""

from .columns import (
    ERROR_HEADER,
    CellError,
    Column,
    ImportSpec,
    Row,
    boolean,
    choice,
    date,
    decimal_number,
    integer,
    normalize_header,
    text,
)
from .reading import SNIFF_BYTES, FileProblem, RowParser, Table, detect_encoding, map_header, parse_row
from .runner import (
    MAX_ERRORS_KEPT,
    ImportOutcome,
    RejectedWriter,
    SeenValues,
    display,
    mark_duplicates,
    run_import,
    run_import_or_raise,
)
from .writing import (
    ExportColumn,
    ExportSpec,
    TableWriter,
    csv_stream,
    defuse,
    export_rows,
    template_csv,
    template_xlsx,
    undefuse,
    write_export,
)

__all__ = [
    "ERROR_HEADER", "MAX_ERRORS_KEPT", "SNIFF_BYTES", "CellError", "Column", "ExportColumn", "ExportSpec",
    "FileProblem", "ImportOutcome", "ImportSpec", "RejectedWriter", "Row", "RowParser", "SeenValues", "Table",
    "TableWriter", "boolean", "choice", "csv_stream", "date", "decimal_number", "defuse", "detect_encoding",
    "display", "export_rows", "integer", "map_header", "mark_duplicates", "normalize_header", "parse_row",
    "run_import", "run_import_or_raise", "template_csv", "template_xlsx", "text", "undefuse", "write_export",
]  # fmt: skip
