"""Read-side rows of the command center: the live event log (embedded broker), the days whose
figures must be recomputed, and the pre-aggregated daily figures the dashboards read.

Every figure row belongs to the day a case was reported (Asia/Shanghai) and to the case's leaf
area, with its town and village copied so that a town or village is one equality filter. A case
changing later (closed, overdue, rated) touches only its own reporting day, which the worker
recomputes whole: a day's rows are always a pure function of that day's cases.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LiveEvent(models.Model):
    """One live event (database broker): pages poll after the last id they saw."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    payload = models.JSONField()

    class Meta:
        verbose_name = _("live event")
        verbose_name_plural = _("live events")

    def __str__(self):
        return f"{self.pk} {self.payload.get('type', '')}"


class DirtyDay(models.Model):
    """A reporting day whose figures are out of date. Written in the same transaction as the case
    change (never lost); the worker deletes exactly the rows it has processed."""

    day = models.DateField()

    class Meta:
        verbose_name = _("day to refresh")
        verbose_name_plural = _("days to refresh")

    def __str__(self):
        return str(self.day)


class Figures(models.Model):
    """What both figure tables share: where and when the cases were reported."""

    day = models.DateField(_("day"))
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    town = models.ForeignKey("areas.Area", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    village = models.ForeignKey(
        "areas.Area", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    area_path = models.CharField(max_length=255)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.area_path}"


class DailyCaseFigure(Figures):
    """Cases reported on one day in one leaf area, of one category, through one channel."""

    category = models.ForeignKey(
        "cases.Category", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    channel = models.CharField(max_length=20)
    total = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)  # closed (fixed, on site or without a fix): finished
    rejected = models.PositiveIntegerField(default=0)  # never finished: out of the closure rate's base
    merged = models.PositiveIntegerField(default=0)  # the same
    finished_on_time = models.PositiveIntegerField(default=0)  # finished (closed), never overdue
    overdue = models.PositiveIntegerField(default=0)  # ever overdue (dispatch or handling)
    open_overdue = models.PositiveIntegerField(default=0)
    handled_on_site = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfaction_sum = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)  # rated 4 or 5

    class Meta:
        verbose_name = _("daily case figure")
        verbose_name_plural = _("daily case figures")
        indexes = [
            models.Index(fields=["day"]),
            models.Index(fields=["town", "day"]),
            models.Index(fields=["village", "day"]),
            models.Index(fields=["area", "day"]),
        ]


class DailyDepartmentFigure(Figures):
    """Assignments of one department for the cases reported on one day in one leaf area."""

    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, related_name="+")
    assigned = models.PositiveIntegerField(default=0)  # not cancelled
    active = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    done_on_time = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)  # returned, whatever the dispatcher decided
    # Returns the dispatcher accepted: the only assignments that leave the department's rates (an
    # undecided return still counts against the department).
    returns_accepted = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily department figure")
        verbose_name_plural = _("daily department figures")
        indexes = [
            models.Index(fields=["day"]),
            models.Index(fields=["town", "day"]),
            models.Index(fields=["village", "day"]),
            models.Index(fields=["area", "day"]),
        ]
