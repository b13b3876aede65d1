"""Turn the trail into each subject's measures and indicators for a period, and list the cases behind
any figure. Accepted appeals are applied here, inside the source queries, so that a figure and its
case list move together."""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Department, Membership, Role
from wangge.areas.models import Area, Level
from wangge.cases.models import Case

from .indicators import SOURCES, Context, indicators_for, measures_for
from .models import Appeal, AppealStatus, SubjectType
from .period import Period

DESK_ROLES = {
    Level.VILLAGE: Role.VILLAGE_DISPATCHER,
    Level.TOWN: Role.TOWN_DISPATCHER,
    Level.CITY: Role.CITY_DISPATCHER,
}


@dataclass
class Subject:
    key: str
    label: str
    path: str = ""  # the subject's area path: who may see it


@dataclass
class Result:
    subject: Subject
    slice_path: str
    measures: dict = field(default_factory=dict)
    indicators: dict = field(default_factory=dict)


def subjects(subject_type: str) -> dict[str, Subject]:
    """Everyone evaluated under this subject type, whether or not the period gave them work."""
    if subject_type == SubjectType.DEPARTMENT:
        rows = Department.objects.filter(is_active=True).values_list("code", "name", "area__path")
        return {code: Subject(code, name, path) for code, name, path in rows}
    if subject_type == SubjectType.GRID_MANAGER:
        out: dict[str, Subject] = {}
        memberships = Membership.objects.filter(role=Role.GRID_MANAGER, area__isnull=False, user__is_active=True)
        for user_id, full_name, username, grid, path in memberships.values_list(
            "user_id", "user__full_name", "user__username", "area__name", "area__path"
        ).order_by("user_id", "area__path"):
            key = str(user_id)
            if key in out:
                out[key].label += f"、{grid}"
            else:
                out[key] = Subject(key, f"{full_name or username} · {grid}", path)
        return out
    if subject_type == SubjectType.AREA:
        rows = Area.objects.filter(level__in=[Level.TOWN, Level.VILLAGE, Level.GRID]).values_list(
            "code", "name", "path"
        )
        return {code: Subject(code, name, path) for code, name, path in rows}
    if subject_type == SubjectType.DESK:
        out = {}
        desks = Membership.objects.filter(role__in=DESK_ROLES.values(), area__isnull=False)
        for role, code, name, path in desks.values_list("role", "area__code", "area__name", "area__path"):
            level = next(lv for lv, r in DESK_ROLES.items() if r == role)
            out[f"{level}:{code}"] = Subject(f"{level}:{code}", desk_label(name), path)
        return out
    raise ValueError(subject_type)


def desk_label(area_name: str) -> str:
    return _("%(area)s command center") % {"area": area_name}


def context(subject_type: str, period: Period, as_of=None) -> Context:
    """The computation's context, with the accepted appeals of this subject type and period."""
    ctx = Context(period, as_of or timezone.now())
    accepted = Appeal.objects.filter(subject_type=subject_type, period_key=period.key, status=AppealStatus.ACCEPTED)
    for appeal in accepted.select_related("department", "reattribute_to"):
        if appeal.reattribute_to_id:
            ctx.moved.append((appeal.subject_key, appeal.case_id, appeal.reattribute_to.code))
        else:
            ctx.excluded.append((appeal.subject_key, appeal.case_id))
    return ctx


def compute(subject_type: str, period: Period, as_of=None, ctx: Context | None = None) -> list[Result]:
    """Every subject's measures and indicators: one grouped query per source."""
    ctx = ctx or context(subject_type, period, as_of)
    everyone = subjects(subject_type)
    grouped: dict[tuple[str, str], dict] = {}
    for source in SOURCES[subject_type]:
        for target, values in source.grouped(ctx).items():
            grouped.setdefault(target, {}).update(values)
    codes = [m for m in measures_for(subject_type, ctx)]
    targets = {(key, "") for key in everyone} | set(grouped)
    indicators = indicators_for(subject_type)
    results = []
    for key, slice_path in sorted(targets):
        subject = everyone.get(key)
        if subject is None:
            continue  # a row of someone no longer evaluated (a deleted department, a former grid manager)
        values = {code: round(grouped.get((key, slice_path), {}).get(code, 0), 4) for code in codes}
        results.append(Result(subject, slice_path, values, {i.code: i.value(values) for i in indicators}))
    return results


def counted_case_ids(
    subject_type: str, period: Period, subject_key: str, measure_code: str, slice_path="", ctx: Context | None = None
) -> list[int]:
    """The ids of the cases a counted measure counts for one subject (the figure's drill-down)."""
    ctx = ctx or context(subject_type, period)
    found = measures_for(subject_type, ctx).get(measure_code)
    if found is None or not found[1].counts_cases or not found[0].links_cases:
        return []
    source, measure = found
    return sorted(source.case_ids(ctx, subject_key, slice_path, measure))


def counted_cases(subject_type, period, subject_key, measure_code, slice_path="", ctx=None):
    ids = counted_case_ids(subject_type, period, subject_key, measure_code, slice_path, ctx)
    return Case.objects.filter(pk__in=ids) if ids else Case.objects.none()


def is_counted(subject_type: str, period: Period, subject_key: str, case_id: int) -> bool:
    """Whether the subject's figures of the period count this case at all (an appeal needs that)."""
    ctx = context(subject_type, period)
    for source in SOURCES[subject_type]:
        if source.links_cases:
            rows = source.rows(ctx).filter(source.subject_filter(subject_key, "", ctx))
            if rows.filter(**{source.case_field: case_id}).exists():
                return True
    return False
