"""The machinery behind every figure: a Source is one kind of row of the trail (assignments, cases,
case events, inspection tasks, track days) taken for a period; a Measure is a count of distinct
cases (or a sum) over the source's rows that pass its filter; an Indicator is what a scheme scores:
a measure, or a rate or average of two.

The grouped figures and the linked case lists are built from the same source query and the same
filter, so a figure and its list cannot disagree (tested for every measure)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum

from ..period import Period


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    definition: str
    filter: Q = field(default_factory=Q)
    # Sum of (end − start) in hours instead of a count of cases; or of a numeric field.
    hours: tuple[str, str] | None = None
    total_of: str | None = None
    scale: float = 1  # e.g. 1/3600: seconds summed, hours shown

    @property
    def counts_cases(self) -> bool:
        return self.hours is None and self.total_of is None


@dataclass
class Context:
    """What one computation knows: the period, the moment the trail is read as of, and the
    accepted appeals that take (subject, case) pairs out or move them to another department."""

    period: Period
    as_of: datetime
    excluded: list[tuple[str, int]] = field(default_factory=list)  # (subject key, case id)
    moved: list[tuple[str, int, str]] = field(default_factory=list)  # (from key, case id, to key)
    cache: dict = field(default_factory=dict)  # lookups shared by the sources of one computation

    @property
    def since(self):
        return self.period.since

    @property
    def until(self):
        return self.period.until


class Source:
    """Rows of one kind for a period; subclasses say which rows, how they group and whose they are."""

    subject_type = ""
    case_field = "case_id"  # the row's case id
    group_fields: tuple[str, ...] = ()
    links_cases = True

    def rows(self, ctx: Context) -> QuerySet:
        raise NotImplementedError

    def measures(self, ctx: Context) -> list[Measure]:
        raise NotImplementedError

    def subjects_of(self, group: dict, ctx: Context) -> list[tuple[str, str]]:
        """The (subject key, slice path) pairs a grouped row's figures add to."""
        raise NotImplementedError

    def subject_filter(self, subject_key: str, slice_path: str, ctx: Context) -> Q:
        raise NotImplementedError

    def aggregates(self, measures: list[Measure]) -> dict:
        out = {}
        for m in measures:
            if m.hours:
                end, start = m.hours
                span = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
                out[m.code] = Sum(span, filter=m.filter)
            elif m.total_of:
                out[m.code] = Sum(m.total_of, filter=m.filter)
            else:
                # Rows counted by their own pk are one per object (the sources filter with Exists and
                # group by their own columns, never join to many): no DISTINCT to keep per group.
                out[m.code] = Count(self.case_field, filter=m.filter, distinct=self.case_field != "pk")
        return out

    def grouped(self, ctx: Context) -> dict[tuple[str, str], dict[str, float]]:
        """{(subject, slice): {measure: value}} for every subject with rows in the period."""
        totals: dict[tuple[str, str], dict[str, float]] = {}
        measures = self.measures(ctx)
        query = self.rows(ctx).values(*self.group_fields).annotate(**self.aggregates(measures)).order_by()
        for group in query:
            values = {m.code: _number(group[m.code]) * m.scale for m in measures}
            for target in self.subjects_of(group, ctx):
                into = totals.setdefault(target, dict.fromkeys(values, 0))
                for code, value in values.items():
                    into[code] += value
        return totals

    def case_ids(self, ctx: Context, subject_key: str, slice_path: str, measure: Measure) -> QuerySet:
        """The ids of the cases a counted measure counts for the subject (the same rows and filter)."""
        rows = self.rows(ctx).filter(self.subject_filter(subject_key, slice_path, ctx), measure.filter)
        return rows.values_list(self.case_field, flat=True).distinct()


def _number(value) -> float:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    return value


@dataclass(frozen=True)
class Indicator:
    """What a scheme can score. kind: count (a measure), rate (numerator / denominator, 0–1) or
    average (sum measure / count measure, in the numerator's unit)."""

    code: str
    subject_type: str
    name: str
    definition: str  # 口径, shown on the pages and in docs/evaluation.md
    numerator: str
    denominator: str | None = None
    kind: str = "count"
    unit: str = ""
    higher_is_better: bool = True

    def value(self, measures: dict) -> float | None:
        top = measures.get(self.numerator, 0)
        if self.denominator is None:
            return top
        bottom = measures.get(self.denominator, 0)
        if not bottom:
            return None
        return round(top / bottom, 4)

    @property
    def linked_measures(self) -> list[str]:
        return [m for m in (self.numerator, self.denominator) if m]
