"""What every import shares: reading text in any common Chinese encoding, and row errors."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RowError:
    file: str
    line: int  # 1-based line in the file; the header is line 1
    reason: str
    field: str = ""

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"


class ImportRejected(Exception):
    """Nothing was written: every bad row is listed."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} 处错误，未写入任何数据 ({len(errors)} errors, nothing written)")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or, failing that, GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_csv(path: str | Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and (line number, row dict) pairs of a CSV file in any common encoding."""
    text = decode_text(Path(path).read_bytes())
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], []
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append(
            (reader.line_num, {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)})
        )
    return header, rows
