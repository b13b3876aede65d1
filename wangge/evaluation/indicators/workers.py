"""Grid managers (as the patrol supervisors 监督员 of digital city management): their own reports, the
verifications and inspections due in their grids, and their time on duty from the GPS track days.
A grid with two managers gives both the grid's verifications and inspections."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import Membership, Role
from wangge.areas.models import under
from wangge.cases.models import Case, CaseEvent, Channel, Status
from wangge.patrol.models import InspectionTask, TaskStatus, TrackDay

from .areas import NOT_REGISTERED
from .base import Context, Measure, Source


def manager_grids(ctx: Context) -> dict[int, list[str]]:
    """{user id: [grid paths]} of every grid manager."""
    if "manager_grids" not in ctx.cache:
        grids: dict[int, list[str]] = {}
        for user_id, path in Membership.objects.filter(role=Role.GRID_MANAGER, area__isnull=False).values_list(
            "user_id", "area__path"
        ):
            grids.setdefault(user_id, []).append(path)
        ctx.cache["manager_grids"] = grids
    return ctx.cache["manager_grids"]


def managers_by_path(path: str, ctx: Context) -> list[int]:
    index = ctx.cache.get("managers_by_grid")
    if index is None:
        index = {}
        for user_id, paths in manager_grids(ctx).items():
            for p in paths:
                index.setdefault(p, []).append(user_id)
        ctx.cache["managers_by_grid"] = index
    # A leaf may be a sub-grid: its grid is the prefix a manager holds.
    found = []
    prefix = path
    while prefix:
        found += index.get(prefix, [])
        prefix = prefix[: prefix.rstrip("/").rfind("/") + 1] if prefix.count("/") > 1 else ""
    return found


def in_grids_of(user_key: str, ctx: Context, field: str) -> Q:
    paths = manager_grids(ctx).get(int(user_key), [])
    q = Q(pk__in=[])
    for p in paths:
        q |= under(field, p)
    return q


class Reports(Source):
    subject_type = "grid_manager"
    case_field = "pk"
    group_fields = ("reporter_id",)

    def rows(self, ctx):
        rows = Case.objects.filter(
            channel=Channel.GRID_MANAGER, reporter__isnull=False, created_at__gte=ctx.since, created_at__lt=ctx.until
        )
        for key, case_id in ctx.excluded:
            rows = rows.exclude(pk=case_id, reporter_id=int(key))
        return rows

    def measures(self, ctx):
        return [
            Measure("reports", _("Reports"), _("Cases the grid manager reported in the period."), Q()),
            Measure(
                "valid_reports",
                _("Valid reports"),
                _(
                    "Of those: registered as cases (not waiting, not rejected as invalid, not a duplicate merged "
                    "into another)."
                ),
                ~Q(status__in=NOT_REGISTERED),
            ),
            Measure(
                "on_site",
                _("Handled on site"),
                _("Of those: handled by the grid manager on the spot."),
                Q(handled_on_site=True),
            ),
        ]

    def subjects_of(self, group, ctx):
        return [(str(group["reporter_id"]), "")]

    def subject_filter(self, subject_key, slice_path, ctx):
        return Q(reporter_id=int(subject_key))


class InManagersGrids(Source):
    """Rows counted for every grid manager of the grid they lie in."""

    subject_type = "grid_manager"
    case_field = "pk"
    group_fields = ("area_path",)

    def subjects_of(self, group, ctx):
        return [(str(user_id), "") for user_id in managers_by_path(group["area_path"], ctx)]

    def subject_filter(self, subject_key, slice_path, ctx):
        return in_grids_of(subject_key, ctx, "area_path")


class Verifications(InManagersGrids):
    """Cases that came back for verification on site (all departments reported back) in the period."""

    def rows(self, ctx):
        asked = CaseEvent.objects.filter(
            to_status=Status.VERIFYING, created_at__gte=ctx.since, created_at__lt=ctx.until
        ).values("case_id")
        rows = Case.objects.filter(pk__in=asked)
        excluded = [case_id for _key, case_id in ctx.excluded]
        return rows.exclude(pk__in=excluded) if excluded else rows

    def measures(self, ctx):
        hours = timedelta(hours=settings.EVALUATION_VERIFY_HOURS)

        def unanswered(within):
            answer = CaseEvent.objects.filter(
                case=OuterRef("case"), action__in=["verify_pass", "verify_fail"], created_at__gte=OuterRef("created_at")
            )
            if within:
                answer = answer.filter(created_at__lte=OuterRef("created_at") + hours)
            else:
                answer = answer.filter(created_at__lte=ctx.as_of)
            return CaseEvent.objects.filter(
                case=OuterRef("pk"), to_status=Status.VERIFYING, created_at__gte=ctx.since, created_at__lt=ctx.until
            ).exclude(Exists(answer))

        return [
            Measure(
                "verify_due",
                _("Verifications due"),
                _(
                    "Cases of the manager's grids whose departments all reported back in the period: to be "
                    "checked on site."
                ),
                Q(),
            ),
            Measure(
                "verified",
                _("Verified"),
                _("Of those: every request in the period was answered (fixed or not)."),
                ~Q(Exists(unanswered(False))),
            ),
            Measure(
                "verified_on_time",
                _("Verified on time"),
                _("Of those: every request answered within %(h)s hours.")
                % {"h": f"{settings.EVALUATION_VERIFY_HOURS:g}"},
                ~Q(Exists(unanswered(True))),
            ),
        ]


class Inspections(InManagersGrids):
    """Inspection tasks due in the period in the manager's grids (not cases: no case list)."""

    links_cases = False

    def rows(self, ctx):
        return InspectionTask.objects.filter(due_date__gte=ctx.period.start, due_date__lte=ctx.period.end).exclude(
            status=TaskStatus.CANCELLED
        )

    def measures(self, ctx):
        done = Q(status=TaskStatus.DONE)
        return [
            Measure(
                "tasks_due",
                pgettext_lazy("evaluation", "Inspections due"),
                _("Inspection tasks due in the period in the manager's grids."),
                Q(),
            ),
            Measure("tasks_done", _("Inspections done"), _("Of those: done."), done),
            Measure(
                "tasks_on_time",
                _("Inspections on time"),
                _("Of those: done by the day they were due."),
                done & Q(done_at__date__lte=F("due_date")),
            ),
        ]


class Tracks(Source):
    """Time on duty and inside the assigned grid, from the phone's GPS track days."""

    subject_type = "grid_manager"
    case_field = "pk"
    group_fields = ("worker_id",)
    links_cases = False

    def rows(self, ctx):
        return TrackDay.objects.filter(day__gte=ctx.period.start, day__lte=ctx.period.end)

    def measures(self, ctx):
        return [
            Measure(
                "duty_hours",
                pgettext_lazy("evaluation", "Hours on duty"),
                _("Time with the phone's patrol switched on, in hours."),
                Q(),
                total_of="seconds_on_duty",
                scale=1 / 3600,
            ),
            Measure(
                "grid_hours",
                _("Hours in the grid"),
                _("Of those: inside the manager's own grids."),
                Q(),
                total_of="seconds_in_grid",
                scale=1 / 3600,
            ),
        ]

    def subjects_of(self, group, ctx):
        return [(str(group["worker_id"]), "")]

    def subject_filter(self, subject_key, slice_path, ctx):
        return Q(worker_id=int(subject_key))
