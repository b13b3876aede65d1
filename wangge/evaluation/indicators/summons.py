"""Summonses (吹哨报到): how departments answer a dispatcher's call to a place. Counted per summoned
department, by the summons' time in the period; for each department, and a town's slice by the place's
town. An arrival is the first good GPS fix on site (flagged reports — too far, imprecise, no fix — do
not count); trail rows, not cases, so no case list."""

from django.db.models import F, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from wangge.summons.models import Attendance, SummonedDepartment

from .base import Measure, Source
from .departments import TOWN_PATH_LENGTH, ByDepartmentAndTown


class DepartmentSummonses(ByDepartmentAndTown, Source):
    subject_type = "department"
    case_field = "pk"
    group_fields = ("subject", "town")
    links_cases = False

    def rows(self, ctx):
        return SummonedDepartment.objects.filter(
            summons__created_at__gte=ctx.since, summons__created_at__lt=ctx.until
        ).annotate(subject=F("department_id"), town=Substr("summons__area_path", 1, TOWN_PATH_LENGTH))

    def measures(self, ctx):
        arrived_before = Q(arrived_at__lte=ctx.as_of)
        return [
            Measure(
                "summonses",
                _("Summonses received"),
                _("Times the department was summoned to a place in the period."),
            ),
            Measure(
                "summons_on_time",
                _("Arrived on time"),
                _("Of those: staff reported arrival on site (a good GPS fix near the place) by the deadline."),
                Q(state=Attendance.ARRIVED) & arrived_before,
            ),
            Measure(
                "summons_late",
                _("Arrived late"),
                _("Of those: the first good arrival on site came after the deadline."),
                Q(state=Attendance.LATE) & arrived_before,
            ),
            Measure(
                "summons_missed",
                _("Did not arrive"),
                _("Of those: the deadline passed and no good arrival on site was reported."),
                (Q(arrived_at__isnull=True) | Q(arrived_at__gt=ctx.as_of)) & Q(summons__arrive_by__lt=ctx.as_of),
            ),
        ]
