"""A report as XLSX (openpyxl, written in the request: a report has one row per subject and slice):
the ranking with Chinese headers, and a second sheet with the scheme's items and the definitions
(口径) of every figure. Text cells never become formulas."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from wangge.core.tabular.writing import _xlsx_value

from . import report_tables as tables
from .queries import Sheet


def _append(sheet, values) -> None:
    sheet.append([_xlsx_value(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"  # a name typed as "=…" stays text


def _number(indicator, value):
    if value is None:
        return None
    return round(float(value) * 100, 1) if indicator.kind == "rate" else round(float(value), 2)


def workbook(sheet_: Sheet) -> bytes:
    table = tables.table(sheet_)
    cols, infos = table.columns, table.infos
    rows = sorted(sheet_.rows, key=lambda r: (r.slice_path, r.rank is None, r.rank or 0, r.subject_label))
    towns = tables.town_names({r.slice_path for r in rows})
    _previous_report, previous = tables.previous_scores(sheet_.scheme, sheet_.period)
    figures = list(infos.values())

    book = Workbook()
    ranking = book.active
    ranking.title = pgettext("evaluation report", "Ranking")
    state = {
        "live": _("Computed live (not saved)"),
        "draft": pgettext("evaluation report", "Draft"),
        "published": pgettext("evaluation report", "Published"),
        "superseded": _("Superseded by a later revision"),
    }[sheet_.state]
    revision = (
        f" · {_('revision %(n)s') % {'n': sheet_.report.revision}}" if sheet_.report and sheet_.report.revision else ""
    )
    _append(
        ranking,
        [
            f"{sheet_.scheme.name} · {sheet_.period.label} ({sheet_.period.start} — {sheet_.period.end})"
            f" · {state}{revision}"
        ],
    )
    ranking["A1"].font = Font(bold=True, size=13)
    sliced = any(r.slice_path for r in rows)
    header = [
        pgettext("evaluation report", "Rank"),
        pgettext("evaluation report", "Subject"),
        *([pgettext("evaluation report", "Scope")] if sliced else []),
        pgettext("evaluation report", "Score"),
        pgettext("evaluation report", "Grade"),
        _("Change vs previous period"),
    ]
    header += [f"{c.name}{'(%)' if c.indicator.kind == 'rate' else ''}" for c in cols]
    header += [
        f"{info.name}({pgettext('evaluation report', 'hours')})" if info.in_hours else info.name for info in figures
    ]
    _append(ranking, header)
    for cell in ranking[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        before = previous.get((row.subject_key, row.slice_path))
        change = round(row.score - before, 2) if row.score is not None and before is not None else None
        scope = (
            towns.get(row.slice_path, row.slice_path) if row.slice_path else pgettext("evaluation report", "Whole city")
        )
        values = [
            row.rank,
            row.subject_label,
            *([scope] if sliced else []),
            row.score,
            tables.grade_label(row.grade),
            change,
        ]
        values += [_number(c.indicator, row.indicators.get(c.code)) for c in cols]
        values += [round(float(row.measures.get(info.code, 0)), 2) for info in figures]
        _append(ranking, values)
    ranking.freeze_panes = "C3"
    ranking.column_dimensions["B"].width = 28

    notes = book.create_sheet(pgettext("evaluation report", "Definitions"))
    version = table.version
    _append(
        notes,
        [f"{sheet_.scheme.name} · {_('version %(n)s') % {'n': version.number}}" if version else sheet_.scheme.name],
    )
    notes["A1"].font = Font(bold=True, size=13)
    _append(
        notes,
        [
            pgettext("evaluation report", "Figure"),
            pgettext("evaluation report", "Role in the score"),
            pgettext("evaluation report", "Weight"),
            pgettext("evaluation report", "Target"),
            pgettext("evaluation report", "Points per case"),
            pgettext("evaluation report", "Cap"),
            pgettext("evaluation report", "Definition"),
        ],
    )
    for cell in notes[2]:
        cell.font = Font(bold=True)
    for c in cols:
        role = (
            pgettext("evaluation report", "Scored item")
            if c.role == "item"
            else pgettext("evaluation report", "Deduction or bonus")
        )
        _append(notes, [c.name, role, c.weight, c.target_text, c.points, c.cap, str(c.indicator.definition)])
    _append(notes, [])
    for info in figures:
        _append(
            notes,
            [
                info.name,
                pgettext("evaluation report", "Counted from the trail"),
                None,
                None,
                None,
                None,
                info.definition,
            ],
        )
    _append(notes, [])
    if version:
        grades = version.body.get("grades", {})
        bands = "; ".join(
            f"{tables.grade_label(g)} ≥ {grades[g]:g}" for g in ("excellent", "good", "pass") if g in grades
        )
        _append(notes, [pgettext("evaluation report", "Grades"), bands])
    _append(notes, [pgettext("evaluation report", "Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 16
    notes.column_dimensions["G"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
