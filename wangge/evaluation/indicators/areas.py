"""Areas (town, village, grid) and the command centers' desks (受理/派遣), from the cases reported in
the period. Figures are grouped by leaf area in the database, then added up the tree in Python, so a
town costs the same as a grid."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from wangge.areas.models import Level, under
from wangge.cases.actions.closing import CLOSING_OUTCOMES
from wangge.cases.models import Assignment, AssignmentStatus, Case, CaseEvent, Outcome, ReturnDecision, Status

from .base import Context, Measure, Source

NOT_REGISTERED = [Status.REPORTED, Status.REJECTED, Status.MERGED]
REGISTERED = ~Q(status__in=NOT_REGISTERED)
CLOSED = Q(status=Status.CLOSED)
RATED = Q(satisfaction__isnull=False)
# Levels an area row is kept for, by the depth of its path (city = 1 part).
LEVEL_BY_DEPTH = {2: Level.TOWN, 3: Level.VILLAGE, 4: Level.GRID}
DESK_DEPTH = {Level.CITY: 1, Level.TOWN: 2, Level.VILLAGE: 3}


def path_prefix(path: str, depth: int) -> str:
    parts = path.split("/")
    return "/".join(parts[:depth]) + "/" if len(parts) > depth else ""


def reported_in(ctx: Context):
    return Case.objects.filter(created_at__gte=ctx.since, created_at__lt=ctx.until)


class AreaCases(Source):
    subject_type = "area"
    case_field = "pk"
    group_fields = ("area_path",)

    def rows(self, ctx):
        return reported_in(ctx)

    def measures(self, ctx):
        late_assignment = (
            Assignment.objects.filter(case=OuterRef("pk"))
            .exclude(Q(status=AssignmentStatus.CANCELLED) | Q(return_decision=ReturnDecision.ACCEPTED))
            .filter(Q(overdue_at__isnull=False) | Q(done_at__gt=F("deadline")))
        )
        earlier = Case.objects.filter(
            category=OuterRef("category"),
            area_id=OuterRef("area_id"),
            created_at__lt=OuterRef("created_at"),
            created_at__gte=OuterRef("created_at") - timedelta(days=settings.EVALUATION_RECURRENCE_DAYS),
        ).exclude(status__in=[Status.REJECTED, Status.MERGED])
        reopened = CaseEvent.objects.filter(case=OuterRef("pk"), action="reopen")
        return [
            Measure("reported", _("Reported"), _("Reports of the period in the area, from every channel."), Q()),
            Measure(
                "registered",
                _("Registered"),
                _(
                    "Of those reported: taken up as cases (not waiting, not rejected as invalid, not merged "
                    "into another)."
                ),
                REGISTERED,
            ),
            Measure("closed", _("Closed"), _("Of those registered: closed, with or without a fix."), CLOSED),
            Measure(
                "closed_on_time",
                _("Closed on time"),
                _(
                    "Of those closed: dispatched in time and no department late (an extension granted moves the "
                    "deadline; a return accepted does not count)."
                ),
                CLOSED & Q(dispatch_overdue_at__isnull=True) & ~Q(Exists(late_assignment)),
            ),
            Measure(
                "closed_unfixed",
                _("Closed without a fix"),
                _("Of those closed: not the city's responsibility, cannot be fixed, or withdrawn."),
                CLOSED & Q(outcome__in=CLOSING_OUTCOMES),
            ),
            Measure(
                "resolved",
                _("Resolved"),
                _("Of those closed: fixed (verified on site) or handled on site."),
                CLOSED & Q(outcome__in=[Outcome.FIXED, Outcome.HANDLED_ON_SITE]),
            ),
            Measure(
                "recurrent",
                _("Recurring"),
                _("Of those registered: the same category was reported in the same grid in the %(d)s days before.")
                % {"d": settings.EVALUATION_RECURRENCE_DAYS},
                REGISTERED & Q(category__isnull=False) & Q(Exists(earlier)),
            ),
            Measure(
                "reopened",
                _("Reopened"),
                _("Of those reported: reopened after closing at least once."),
                Q(Exists(reopened)),
            ),
            Measure(
                "responded",
                _("Taken up in time"),
                _("Of those registered: registered and dispatched (or handled) before the dispatch deadline."),
                REGISTERED & Q(dispatch_overdue_at__isnull=True),
            ),
            Measure("rated", _("Rated by the citizen"), _("Of those reported: rated by the reporter."), RATED),
            Measure("satisfied", _("Satisfied"), _("Of those rated: 4 or 5 out of 5."), RATED & Q(satisfaction__gte=4)),
            Measure(
                "satisfaction_points", _("Rating points"), _("The sum of the ratings."), RATED, total_of="satisfaction"
            ),
        ]

    def subjects_of(self, group, ctx):
        path = group["area_path"]
        return [(code, "") for code in area_codes_above(path)]

    def subject_filter(self, subject_key, slice_path, ctx):
        return under("area_path", area_path_of(subject_key, ctx))


def area_codes_above(path: str) -> list[str]:
    """The town, village and grid codes a leaf path lies in."""
    parts = [p for p in path.split("/") if p]
    return [parts[depth - 1] for depth in LEVEL_BY_DEPTH if len(parts) >= depth]


def area_path_of(code: str, ctx: Context) -> str:
    from wangge.areas.models import Area

    paths = ctx.cache.setdefault("area_paths", {})
    if code not in paths:
        paths[code] = Area.objects.filter(code=code).values_list("path", flat=True).first() or "-"
    return paths[code]


def desk_key(level: str, path: str) -> str:
    prefix = path_prefix(path, DESK_DEPTH.get(level, 3))
    return f"{level}:{prefix.rstrip('/').rsplit('/', 1)[-1]}" if prefix else ""


def desk_filter(subject_key: str, ctx: Context, level_field: str, path_field: str) -> Q:
    level, _sep, code = subject_key.partition(":")
    return Q(**{level_field: level}) & under(path_field, area_path_of(code, ctx))


class DeskCases(Source):
    """The desk is the command center the case stands at (its command level over its area)."""

    subject_type = "desk"
    case_field = "pk"
    group_fields = ("command_level", "area_path")

    def rows(self, ctx):
        return reported_in(ctx)

    def measures(self, ctx):
        dispatched = Q(dispatched_at__isnull=False)
        return [
            Measure("received", _("Received"), _("Reports of the period standing at this desk."), Q()),
            Measure("dispatched", _("Dispatched"), _("Of those received: dispatched to a department."), dispatched),
            Measure(
                "dispatched_on_time",
                _("Dispatched on time"),
                _("Of those dispatched: first dispatched by the dispatch deadline."),
                dispatched & (Q(dispatch_deadline__isnull=True) | Q(dispatched_at__lte=F("dispatch_deadline"))),
            ),
            Measure(
                "dispatch_hours",
                _("Hours to dispatch"),
                _("The sum, over the cases dispatched, of the time from report to first dispatch."),
                dispatched,
                hours=("dispatched_at", "created_at"),
            ),
            Measure(
                "dispatch_overdue",
                _("Dispatch overdue"),
                _("Of those received: not dispatched by the dispatch deadline."),
                Q(dispatch_overdue_at__isnull=False),
            ),
        ]

    def subjects_of(self, group, ctx):
        key = desk_key(group["command_level"], group["area_path"])
        return [(key, "")] if key else []

    def subject_filter(self, subject_key, slice_path, ctx):
        return desk_filter(subject_key, ctx, "command_level", "area_path")


class DeskRegistrations(Source):
    """Registration (受理立案): the register step of cases reported in the period."""

    subject_type = "desk"
    group_fields = ("case__command_level", "case__area_path")

    def rows(self, ctx):
        return CaseEvent.objects.filter(
            action="register", case__created_at__gte=ctx.since, case__created_at__lt=ctx.until
        )

    def measures(self, ctx):
        return [
            Measure("registered", _("Registered"), _("Of those received: registered by the desk."), Q()),
            Measure(
                "register_hours",
                _("Hours to register"),
                _("The sum, over the cases registered, of the time from report to registration."),
                Q(),
                hours=("created_at", "case__created_at"),
            ),
        ]

    def subjects_of(self, group, ctx):
        key = desk_key(group["case__command_level"], group["case__area_path"])
        return [(key, "")] if key else []

    def subject_filter(self, subject_key, slice_path, ctx):
        return desk_filter(subject_key, ctx, "case__command_level", "case__area_path")
