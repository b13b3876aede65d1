"""Callbacks (回访): what the citizens said on the phone after their cases closed — reached, resolved
per the citizen, satisfied (4–5) — counted by the callback's completion in the period. For areas by the
case's area; for departments by each department that reported the case back as done (its return not
accepted), a town's slice by the case's town. Counted per case, so the list is the count."""

from django.db.models import F, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from wangge.areas.models import under
from wangge.callbacks.models import CallbackTask, Result, State
from wangge.cases.models import AssignmentStatus, ReturnDecision

from .areas import area_codes_above, area_path_of
from .base import Context, Measure, Source
from .departments import TOWN_PATH_LENGTH, ByDepartmentAndTown, department_ids

REACHED = Q(result=Result.REACHED)


def done_in(ctx: Context):
    return CallbackTask.objects.filter(state=State.DONE, done_at__gte=ctx.since, done_at__lt=ctx.until)


def callback_measures() -> list[Measure]:
    return [
        Measure(
            "callbacks_done",
            _("Callbacks made"),
            _("Callbacks of the period in which the citizen was reached."),
            REACHED,
        ),
        Measure(
            "callback_resolved",
            _("Resolved per the citizen"),
            _("Of the callbacks made: the citizen says the problem is resolved."),
            REACHED & Q(resolved=True),
        ),
        Measure(
            "callback_satisfied",
            _("Satisfied per the callback"),
            _("Of the callbacks made: the citizen gave 4 or 5 out of 5."),
            REACHED & Q(satisfaction__gte=4),
        ),
    ]


class AreaCallbacks(Source):
    subject_type = "area"
    group_fields = ("case__area_path",)

    def rows(self, ctx):
        return done_in(ctx)

    def measures(self, ctx):
        return callback_measures()

    def subjects_of(self, group, ctx):
        return [(code, "") for code in area_codes_above(group["case__area_path"])]

    def subject_filter(self, subject_key, slice_path, ctx):
        return under("case__area_path", area_path_of(subject_key, ctx))


class DepartmentCallbacks(ByDepartmentAndTown, Source):
    subject_type = "department"
    group_fields = ("subject", "town")

    def rows(self, ctx):
        # One filter() call: the assignment the subject comes from is the one filtered (one join).
        rows = done_in(ctx).filter(
            case__assignments__status=AssignmentStatus.DONE,
            case__assignments__return_decision__in=[ReturnDecision.NONE, ReturnDecision.OVERRULED],
        )
        if ctx.excluded:  # accepted appeals take a case out of a department's figures
            ids = department_ids()
            for key, case_id in ctx.excluded:
                rows = rows.exclude(Q(case_id=case_id) & Q(case__assignments__department_id=ids.get(key)))
        return rows.annotate(
            subject=F("case__assignments__department_id"), town=Substr("case__area_path", 1, TOWN_PATH_LENGTH)
        )

    def measures(self, ctx):
        return callback_measures()
