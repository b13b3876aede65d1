"""Reading a holiday calendar file (date,kind,name). No model imports: the data migration uses it too."""

from datetime import date
from pathlib import Path

from django.utils.translation import gettext as _

from wangge.core.imports import ImportRejected, RowError, read_csv

DATA_FILE = Path(__file__).resolve().parent / "data" / "cn_holidays.csv"
KINDS = ("holiday", "workday")  # the values of models.DayKind
NAME_MAX_LENGTH = 50
COLUMNS = ("date", "kind", "name")


def parse_holiday_file(path: str | Path) -> list[dict]:
    """Rows as {"date", "kind", "name"}, every row valid, or ImportRejected listing each bad row."""
    file = Path(path).name
    try:
        header, rows = read_csv(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportRejected([RowError(file, 0, _("Cannot read the file: %(error)s") % {"error": exc})]) from exc
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        reason = _("Missing columns: %(columns)s (expected date,kind,name).") % {"columns": ", ".join(missing)}
        raise ImportRejected([RowError(file, 1, reason)])
    errors, parsed, seen = [], [], {}
    for line, row in rows:
        row_errors = []
        day = None
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            row_errors.append(
                RowError(file, line, _("Not a date (YYYY-MM-DD): %(value)r.") % {"value": row["date"]}, "date")
            )
        if row["kind"] not in KINDS:
            reason = _("Unknown kind %(value)r: use holiday or workday.") % {"value": row["kind"]}
            row_errors.append(RowError(file, line, reason, "kind"))
        elif row["kind"] == "workday" and day is not None and day.weekday() < 5:
            # A make-up workday is a weekend day worked; on a weekday the row would mean nothing.
            reason = _("A make-up workday must be a Saturday or Sunday.")
            row_errors.append(RowError(file, line, reason, "kind"))
        if not row["name"]:
            row_errors.append(RowError(file, line, _("The name is empty."), "name"))
        elif len(row["name"]) > NAME_MAX_LENGTH:
            reason = _("The name is longer than %(max)d characters.") % {"max": NAME_MAX_LENGTH}
            row_errors.append(RowError(file, line, reason, "name"))
        if day is not None and day in seen:
            reason = _("The date is already on line %(line)d.") % {"line": seen[day]}
            row_errors.append(RowError(file, line, reason, "date"))
        if day is not None:
            seen.setdefault(day, line)
        if row_errors:
            errors += row_errors
        else:
            parsed.append({"date": day, "kind": row["kind"], "name": row["name"]})
    if errors:
        raise ImportRejected(errors)
    return parsed
