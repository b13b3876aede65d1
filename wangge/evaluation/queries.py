"""What a user may see of the evaluation, and the one place pages and API get a scheme's rows for a
period: the published report when there is one, else the latest draft, else a live computation."""

from dataclasses import dataclass

from wangge.accounts.models import DEPARTMENT_ROLES, Role
from wangge.accounts.scope import is_admin, scope_for
from wangge.areas.models import Level
from wangge.cases import roles as case_roles
from wangge.cases.models import Case

from .actions import score_rows, unpack_ids
from .compute import compute, counted_case_ids
from .models import Report, ReportRow, ReportStatus, Scheme, SubjectType
from .period import Period

LEVEL_DEPTH_TOWN = 2  # "441900/441900122/": two parts


def _depth(path: str) -> int:
    return path.count("/")


@dataclass(frozen=True)
class Viewer:
    """A user's view of the evaluation, worked out once per request."""

    everything: bool
    area_paths: tuple[str, ...]
    department_codes: frozenset[str]
    user_key: str
    only_self: bool  # a grid manager with no command role sees their own row only

    def sees(self, subject_type: str, subject_key: str, subject_path: str, slice_path: str) -> bool:
        if self.everything:
            return True
        if subject_type == SubjectType.DEPARTMENT:
            if subject_key in self.department_codes:
                return True
            # The city sees whole departments and their work in each town; a town its departments'
            # work in the town.
            return any(_depth(p) == 1 or (slice_path and slice_path == p) for p in self.area_paths)
        if slice_path:
            return False
        if subject_type == SubjectType.GRID_MANAGER and self.only_self:
            return subject_key == self.user_key
        return any(subject_path.startswith(p) for p in self.area_paths)


def viewer(user) -> Viewer:
    scope = scope_for(user)
    roles = user.roles if user.is_authenticated else frozenset()
    memberships = user.membership_list if user.is_authenticated else []
    departments = frozenset(m.department.code for m in memberships if m.department_id and m.role in DEPARTMENT_ROLES)
    command = roles & {Role.LEADER, Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER, Role.ADMIN}
    return Viewer(
        everything=scope.everything or is_admin(user),
        area_paths=scope.area_paths,
        department_codes=departments,
        user_key=str(user.pk),
        only_self=Role.GRID_MANAGER in roles and not command,
    )


def may_use(user) -> bool:
    """Staff with a role in the evaluation: command centers, leaders, departments, grid managers."""
    if not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    return not user.roles <= {Role.LANDLORD, Role.CITIZEN}


@dataclass
class Sheet:
    """A scheme's rows for a period as one user sees them."""

    scheme: Scheme
    period: Period
    report: Report | None  # None: computed live just now (not stored)
    rows: list[ReportRow]

    @property
    def is_published(self) -> bool:
        return self.report is not None and self.report.status == ReportStatus.PUBLISHED

    @property
    def state(self) -> str:
        if self.report is None:
            return "live"
        return self.report.status


def current_report(scheme: Scheme, period: Period) -> Report | None:
    reports = Report.objects.filter(scheme=scheme, period_key=period.key)
    return reports.filter(status=ReportStatus.PUBLISHED).first() or reports.filter(status=ReportStatus.DRAFT).first()


def sheet(user, scheme: Scheme, period: Period, report: Report | None = None) -> Sheet:
    """The published report, else the stored draft, else a live computation — filtered to what the
    user may see. A live computation is scored with the version in force and not stored."""
    report = report or current_report(scheme, period)
    if report is not None:
        rows = list(report.rows.all())
    else:
        version = scheme.version_for(period.start)
        rows = score_rows(version, compute(scheme.subject_type, period)) if version else []
    v = viewer(user)
    shown = [r for r in rows if v.sees(scheme.subject_type, r.subject_key, r.subject_path, r.slice_path)]
    shown.sort(key=lambda r: (r.slice_path, r.rank is None, r.rank or 0, r.subject_label))
    return Sheet(scheme, period, report, shown)


def cases_behind(user, sheet_: Sheet, row: ReportRow, measure_code: str):
    """The cases a figure counts (kept with a stored report), among those the user may see."""
    if sheet_.report is not None:
        ids = unpack_ids(row.case_ids).get(measure_code, [])
    else:
        ids = counted_case_ids(sheet_.scheme.subject_type, sheet_.period, row.subject_key, measure_code, row.slice_path)
    return case_roles.visible_cases(user, Case.objects.filter(pk__in=ids)) if ids else Case.objects.none()


def subject_history(user, scheme: Scheme, period: Period, subject_key: str, count: int = 12) -> list[dict]:
    """The subject's score in the last `count` periods (this one last), from published reports where
    there are, else stored drafts; periods with neither are left empty (no live work per period)."""
    periods = period.previous(count - 1) + [period]
    keys = [p.key for p in periods]
    reports = {}
    for r in Report.objects.filter(scheme=scheme, period_key__in=keys).exclude(status=ReportStatus.SUPERSEDED):
        if r.period_key not in reports or r.status == ReportStatus.PUBLISHED:
            reports[r.period_key] = r
    rows = {
        row.report_id: row
        for row in ReportRow.objects.filter(report__in=reports.values(), subject_key=subject_key, slice_path="")
    }
    v = viewer(user)
    out = []
    for p in periods:
        report = reports.get(p.key)
        row = rows.get(report.pk) if report else None
        if row is not None and not v.sees(scheme.subject_type, row.subject_key, row.subject_path, row.slice_path):
            row = None
        out.append(
            {
                "period": p.key,
                "score": row.score if row else None,
                "grade": row.grade if row else "",
                "published": bool(report and report.status == ReportStatus.PUBLISHED),
            }
        )
    return out


def may_publish(user) -> bool:
    """Who computes and publishes reports: administrators, city dispatchers and city-level leaders."""
    if not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    return any(
        m.role == Role.CITY_DISPATCHER or (m.role == Role.LEADER and m.area_id and m.area.level == Level.CITY)
        for m in user.membership_list
    )


def visible_schemes(user):
    return Scheme.objects.filter(is_active=True) if may_use(user) else Scheme.objects.none()


__all__ = ["Sheet", "Viewer", "cases_behind", "may_publish", "sheet", "subject_history", "viewer", "visible_schemes"]
