"""Departments (专业部门): their assignments dispatched in the period. Counted fairly by construction:
an assignment cancelled because the dispatcher closed the case, or whose return the dispatcher
accepted, is not the department's; a return not (yet) accepted stays in the denominator; a merged
case is nobody's. A town sees each department's work in the town (the slice), the city the whole."""

from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import BigIntegerField, F, Q, Value, When
from django.db.models import Case as When_
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import Department
from wangge.areas.models import CODE_LENGTH, Level
from wangge.cases.models import Assignment, AssignmentStatus, ExtensionStatus, Outcome, ReturnDecision, Status

from .base import Context, Measure, Source

# "441900/441900122/": the town part of an area path.
TOWN_PATH_LENGTH = CODE_LENGTH[Level.CITY] + CODE_LENGTH[Level.TOWN] + 2

COUNTED = ~Q(return_decision=ReturnDecision.ACCEPTED)
HANDLED = COUNTED & Q(status=AssignmentStatus.DONE)
RATED = COUNTED & Q(case__satisfaction__isnull=False)


def department_ids() -> dict[str, int]:
    return dict(Department.objects.values_list("code", "pk"))


class ByDepartmentAndTown:
    """For a source grouped by department id (`subject`) and town path (`town`): each group counts
    for the department as a whole and for its slice in the town."""

    def subjects_of(self, group, ctx):
        if "department_codes" not in ctx.cache:  # once per computation, not once per group
            ctx.cache["department_codes"] = {pk: code for code, pk in department_ids().items()}
        code = ctx.cache["department_codes"].get(group["subject"], str(group["subject"]))
        return [(code, ""), (code, group["town"])]

    def subject_filter(self, subject_key, slice_path, ctx):
        q = Q(subject=department_ids().get(subject_key, -1))
        return q & Q(town=slice_path) if slice_path else q


class Assignments(ByDepartmentAndTown, Source):
    subject_type = "department"
    group_fields = ("subject", "town")

    def rows(self, ctx: Context):
        rows = (
            Assignment.objects.filter(created_at__gte=ctx.since, created_at__lt=ctx.until)
            .exclude(status=AssignmentStatus.CANCELLED)
            .exclude(case__status=Status.MERGED)
        )
        ids = department_ids() if (ctx.excluded or ctx.moved) else {}
        # Accepted appeals: a case taken out of a department's figures, or counted for another one.
        if ctx.excluded:
            rows = rows.exclude(reduce(or_, (Q(case_id=c, department_id=ids.get(k)) for k, c in ctx.excluded)))
        subject = F("department_id")
        if ctx.moved:
            subject = When_(
                *(When(Q(case_id=c, department_id=ids.get(k)), then=Value(ids.get(to))) for k, c, to in ctx.moved),
                default=F("department_id"),
                output_field=BigIntegerField(),  # Value(int) and the key's BigAutoField: say which
            )
        return rows.annotate(subject=subject, town=Substr("case__area_path", 1, TOWN_PATH_LENGTH))

    def measures(self, ctx: Context):
        respond = timedelta(hours=settings.EVALUATION_RESPOND_HOURS)
        late = (Q(status=AssignmentStatus.DONE) & Q(done_at__gt=F("deadline"))) | (
            Q(status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED, AssignmentStatus.RETURNED])
            & Q(deadline__lt=ctx.as_of)
        )
        return [
            Measure(
                "due",
                _("Assignments due"),
                _(
                    "Cases dispatched to the department in the period, less those closed by the dispatcher before "
                    "the department finished and those whose return the dispatcher accepted."
                ),
                COUNTED,
            ),
            Measure(
                "handled", _("Handled"), _("Of those due: reported back as done (and not sent back since)."), HANDLED
            ),
            Measure(
                "handled_on_time",
                _("Handled on time"),
                _("Of those handled: reported back by the deadline (an extension granted moves the deadline)."),
                HANDLED & Q(done_at__lte=F("deadline")),
            ),
            Measure(
                "overdue",
                _("Overdue"),
                _(
                    "Of those due: reported back after the deadline, or still not done when the deadline passed "
                    "(a return not accepted counts as not done)."
                ),
                COUNTED & late,
            ),
            Measure(
                "rework",
                _("Rework"),
                _("Of those due: found not fixed on site at least once."),
                COUNTED & Q(rework_count__gt=0),
            ),
            Measure(
                "returns_accepted",
                pgettext_lazy("evaluation", "Returns accepted"),
                _("Returned as not the department's, and the dispatcher agreed (not counted as due)."),
                Q(return_decision=ReturnDecision.ACCEPTED),
            ),
            Measure(
                "returns_overruled",
                _("Returns overruled"),
                _("Returned, and the dispatcher sent it back: counts against the department."),
                Q(return_decision=ReturnDecision.OVERRULED),
            ),
            Measure(
                "returns_pending",
                _("Returns awaiting a decision"),
                _("Returned and not yet decided by the dispatcher: still counted as due."),
                Q(status=AssignmentStatus.RETURNED, return_decision=ReturnDecision.NONE),
            ),
            Measure(
                "extensions_asked",
                _("Extensions asked"),
                _("Of those due: more time asked."),
                COUNTED & ~Q(extension_status=ExtensionStatus.NONE),
            ),
            Measure(
                "extensions_granted",
                _("Extensions granted"),
                _("Of those due: more time granted."),
                COUNTED & Q(extension_status=ExtensionStatus.APPROVED),
            ),
            Measure(
                "responded",
                _("Responded in time"),
                _("Of those due: accepted within %(h)s hours of dispatch.")
                % {"h": f"{settings.EVALUATION_RESPOND_HOURS:g}"},
                COUNTED & Q(accepted_at__isnull=False, accepted_at__lte=F("created_at") + respond),
            ),
            Measure(
                "resolved",
                _("Resolved"),
                _("Of those handled: the case was closed as fixed after verification on site."),
                HANDLED & Q(case__status=Status.CLOSED, case__outcome=Outcome.FIXED),
            ),
            Measure("rated", _("Rated by the citizen"), _("Of those due: the case has the reporter's rating."), RATED),
            Measure(
                "satisfied", _("Satisfied"), _("Of those rated: 4 or 5 out of 5."), RATED & Q(case__satisfaction__gte=4)
            ),
            Measure(
                "satisfaction_points",
                _("Rating points"),
                _("The sum of the ratings of the cases rated."),
                RATED,
                total_of="case__satisfaction",
            ),
        ]
