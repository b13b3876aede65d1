"""What the report pages show of a sheet (queries.sheet): the columns of a scheme version (its scored
items and its deductions/bonuses, each with the definition — 口径 — of the indicator and of the
measures behind it), the rows as cells whose counted figures link to exactly the cases they count,
the change against the previous period, and the town slices and area levels to choose from. Shared
by the ranking, report, subject, print and export views; reads only."""

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from wangge.areas.models import Area, Level

from .indicators import INDICATORS, Context, Indicator, measures_for
from .indicators.areas import LEVEL_BY_DEPTH
from .models import Report, ReportRow, SchemeVersion, SubjectType
from .period import Period
from .queries import Sheet, current_report
from .scoring import GRADES

TYPE_LABELS = {
    SubjectType.DEPARTMENT: pgettext_lazy("evaluation report", "Professional departments"),  # 专业部门
    SubjectType.GRID_MANAGER: pgettext_lazy("evaluation report", "Grid managers"),  # 网格员
    SubjectType.AREA: gettext_lazy("Areas"),  # 区域
    SubjectType.DESK: pgettext_lazy("evaluation report", "Command centers"),  # 指挥中心
}
LEVEL_LABELS = {
    Level.TOWN: pgettext_lazy("evaluation report", "Towns and streets"),
    Level.VILLAGE: pgettext_lazy("evaluation report", "Villages and communities"),
    Level.GRID: pgettext_lazy("evaluation report", "Grids"),
}
GRADE_ORDER = ("excellent", "good", "pass", "fail")


@dataclass(frozen=True)
class MeasureInfo:
    code: str
    name: str
    definition: str
    linkable: bool  # a count of cases whose list can be opened
    counts_cases: bool
    in_hours: bool = False  # a sum of time spans (or of seconds shown as hours)

    def show(self, value) -> str:
        if value is None:
            return "—"
        return f"{value:.0f}" if self.counts_cases else f"{value:.1f}"


def measure_infos(subject_type: str, period: Period) -> dict[str, MeasureInfo]:
    """Every measure of a subject type with its definition (no query: the context's appeals are
    not needed to name and define them)."""
    ctx = Context(period, timezone.now())
    return {
        code: MeasureInfo(
            code,
            str(m.name),
            str(m.definition),
            m.counts_cases and source.links_cases,
            m.counts_cases,
            bool(m.hours) or m.scale != 1,
        )
        for code, (source, m) in measures_for(subject_type, ctx).items()
    }


@dataclass
class Column:
    indicator: Indicator
    role: str  # "item" (weighted, scored against a target) or "adjustment" (points per unit)
    measures: list[MeasureInfo]
    weight: float | None = None
    target: float | None = None
    points: float | None = None
    cap: float | None = None

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def name(self) -> str:
        unit = self.unit
        return f"{self.indicator.name}({unit})" if unit else str(self.indicator.name)

    @property
    def unit(self) -> str:
        if self.indicator.kind == "average" or (self.measures and not self.measures[0].counts_cases):
            return str(self.indicator.unit)
        return ""

    @property
    def title(self) -> str:
        """The hover text: the indicator's definition, then each measure's."""
        lines = [named(self.indicator.name, self.indicator.definition)]
        lines += [named(m.name, m.definition) for m in self.measures]
        return "\n".join(lines)

    @property
    def target_text(self) -> str:
        return format_value(self.indicator, self.target, self.measures) if self.target is not None else ""

    def cell(self, row: ReportRow, link) -> dict:
        value = row.indicators.get(self.code)
        parts = []
        kind = self.indicator.kind
        shown = self.measures if kind == "rate" else self.measures[1:] if kind == "average" else []
        for m in shown:
            figure = row.measures.get(m.code, 0)
            parts.append({"text": m.show(figure), "url": link(row, m.code) if m.linkable else "", "title": m.name})
        main_url = ""
        if kind == "count" and self.measures and self.measures[0].linkable:
            main_url = link(row, self.measures[0].code)
        points = row.points.get(self.code if self.role == "item" else f"adj:{self.code}")
        return {
            "text": format_value(self.indicator, value, self.measures),
            "url": main_url,
            "parts": parts,
            "points": points,
            "measure": self.measures[0].code if self.measures else "",
        }


def named(name, text) -> str:
    return _("%(name)s: %(text)s") % {"name": name, "text": text}


def format_value(indicator: Indicator, value, measures: list[MeasureInfo] | None = None) -> str:
    """Rates as %, averages and hours with one decimal, counts of cases as integers."""
    if value is None:
        return "—"
    if indicator.kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if indicator.kind == "average" or (measures and not measures[0].counts_cases):
        return f"{float(value):.1f}"
    return f"{float(value):.0f}"


def columns(version: SchemeVersion | None, infos: dict[str, MeasureInfo]) -> list[Column]:
    if version is None:
        return []
    out = []
    body = version.body or {}
    for item in body.get("items", []):
        indicator = INDICATORS.get(item.get("indicator"))
        if indicator:
            measures = [infos[c] for c in indicator.linked_measures if c in infos]
            out.append(Column(indicator, "item", measures, weight=item.get("weight"), target=item.get("target")))
    for adj in body.get("adjustments", []):
        indicator = INDICATORS.get(adj.get("indicator"))
        if indicator:
            measures = [infos[c] for c in indicator.linked_measures if c in infos]
            out.append(Column(indicator, "adjustment", measures, points=adj.get("points"), cap=adj.get("cap")))
    return out


def definitions(cols: list[Column]) -> list[dict]:
    """The 口径 note: each indicator of the table, then the measures it is made of (each once)."""
    seen, out = set(), []
    for col in cols:
        out.append(
            {
                "name": str(col.indicator.name),
                "definition": str(col.indicator.definition),
                "kind": "indicator",
                "code": col.code,
            }
        )
        for m in col.measures:
            if m.code not in seen:
                seen.add(m.code)
                out.append({"name": m.name, "definition": m.definition, "kind": "measure", "code": m.code})
    return out


# ---- links


def slice_code(slice_path: str) -> str:
    return slice_path.rstrip("/").rsplit("/", 1)[-1] if slice_path else ""


def cases_url(scheme_code: str, period_key: str, report: Report | None, row: ReportRow, measure: str) -> str:
    params = {"scheme": scheme_code, "period": period_key, "key": row.subject_key, "measure": measure}
    if row.slice_path:
        params["slice"] = slice_code(row.slice_path)
    if report is not None:
        params["report"] = report.pk
    return reverse("evaluation:cases") + "?" + urlencode(params)


def subject_url(scheme_code: str, period_key: str, row: ReportRow) -> str:
    params = {"period": period_key}
    if row.slice_path:
        params["slice"] = slice_code(row.slice_path)
    return reverse("evaluation:subject", args=[scheme_code, row.subject_key]) + "?" + urlencode(params)


# ---- choosing rows: a department's town slice, an area level


def area_level(row: ReportRow) -> str:
    return LEVEL_BY_DEPTH.get(row.subject_path.count("/"), "")


@dataclass
class Selection:
    rows: list[ReportRow]
    slices: list[dict] = field(default_factory=list)  # [{"code", "label", "active"}]
    levels: list[dict] = field(default_factory=list)
    slice_path: str = ""
    level: str = ""

    @property
    def slice_label(self) -> str:
        return next((s["label"] for s in self.slices if s["active"]), "")


def town_names(paths) -> dict[str, str]:
    return dict(Area.objects.filter(path__in=[p for p in paths if p]).values_list("path", "name"))


def select(sheet_: Sheet, slice_wanted: str = "", level_wanted: str = "") -> Selection:
    """The rows of one slice (a department's whole work, or its work in one town) and, for areas,
    one level; the first available when the wanted one is not among the user's rows."""
    rows = sheet_.rows
    paths = sorted({r.slice_path for r in rows})
    chosen = next((p for p in paths if slice_wanted and slice_code(p) == slice_wanted), None)
    if chosen is None:
        chosen = "" if "" in paths or not paths else paths[0]
    names = town_names(paths)
    slices = [
        {
            "code": slice_code(p),
            "label": names.get(p, slice_code(p)) if p else pgettext("evaluation report", "Whole city"),
            "active": p == chosen,
        }
        for p in paths
    ]
    rows = [r for r in rows if r.slice_path == chosen]
    levels, level = [], ""
    if sheet_.scheme.subject_type == SubjectType.AREA:
        present = [lv for lv in (Level.TOWN, Level.VILLAGE, Level.GRID) if any(area_level(r) == lv for r in rows)]
        level = level_wanted if level_wanted in present else (present[0] if present else "")
        levels = [{"code": lv, "label": LEVEL_LABELS[lv], "active": lv == level} for lv in present]
        rows = [r for r in rows if area_level(r) == level]
    return Selection(rows, slices if len(slices) > 1 or (slices and slices[0]["code"]) else [], levels, chosen, level)


# ---- the table


def previous_scores(scheme, period: Period) -> tuple[Report | None, dict[tuple[str, str], float | None]]:
    """The previous period's stored report (published, else draft) and its scores by (subject, slice)."""
    before = period.previous(1)[0]
    report = current_report(scheme, before)
    if report is None:
        return None, {}
    return report, {(k, s): v for k, s, v in report.rows.values_list("subject_key", "slice_path", "score")}


def grade_label(code: str) -> str:
    return str(GRADES[code]) if code in GRADES else ""


def lines(sheet_: Sheet, rows: list[ReportRow], cols: list[Column], previous: dict) -> list[dict]:
    code, key, report = sheet_.scheme.code, sheet_.period.key, sheet_.report

    def link(row, measure):
        return cases_url(code, key, report, row, measure)

    out = []
    for row in rows:
        before = previous.get((row.subject_key, row.slice_path))
        change = round(row.score - before, 2) if row.score is not None and before is not None else None
        out.append(
            {
                "row": row,
                "grade": grade_label(row.grade),
                "change": change,
                "url": subject_url(code, key, row),
                "cells": [col.cell(row, link) for col in cols],
            }
        )
    return out


def grade_counts(rows: list[ReportRow], bands: dict | None = None) -> list[dict]:
    """How many subjects got each grade, with each grade's lowest score (the scheme's bands)."""
    counts = Counter(r.grade or "" for r in rows)
    bands = bands or {}
    out = [{"code": g, "label": grade_label(g), "count": counts.get(g, 0), "from": bands.get(g)} for g in GRADE_ORDER]
    if counts.get(""):
        out.append({"code": "", "label": pgettext("evaluation report", "No score"), "count": counts[""]})
    return out


def version_of(sheet_: Sheet) -> SchemeVersion | None:
    if sheet_.report is not None:
        return sheet_.report.version
    return sheet_.scheme.version_for(sheet_.period.start)


@dataclass
class Table:
    sheet: Sheet
    version: SchemeVersion | None
    selection: Selection
    columns: list[Column]
    lines: list[dict]
    definitions: list[dict]
    grades: list[dict]
    previous_report: Report | None
    infos: dict[str, MeasureInfo]


def table(sheet_: Sheet, slice_wanted: str = "", level_wanted: str = "") -> Table:
    version = version_of(sheet_)
    infos = measure_infos(sheet_.scheme.subject_type, sheet_.period)
    cols = columns(version, infos)
    selection = select(sheet_, slice_wanted, level_wanted)
    previous_report, previous = previous_scores(sheet_.scheme, sheet_.period)
    return Table(
        sheet_,
        version,
        selection,
        cols,
        lines(sheet_, selection.rows, cols, previous),
        definitions(cols),
        grade_counts(selection.rows, (version.body or {}).get("grades") if version else None),
        previous_report,
        infos,
    )
