"""吹哨报到 (summons): a town or village dispatcher calls departments to a place by a deadline, for a
case or a campaign; each department's staff report their arrival on site from the phone (a GPS fix
near the place), and the page shows who came, who is late.

A summons names the departments (`SummonedDepartment`, one row each, with its first good arrival);
every report from a phone is an `Arrival` row, good or flagged, and is never changed afterwards."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("summons", "Open")
    CLOSED = "closed", pgettext_lazy("summons", "Closed")


class Attendance(models.TextChoices):
    WAITING = "waiting", _("Not yet arrived")
    ARRIVED = "arrived", _("Arrived on time")
    LATE = "late", _("Arrived late")
    ABSENT = "absent", _("Did not arrive")  # set when the summons is closed without an arrival


class Summons(models.Model):
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="summonses"
    )
    reason = models.TextField(_("reason"), blank=True)
    # The place, WGS-84 like every stored point; its leaf area (from the case, or located).
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(
        _("area path"), max_length=255, db_index=True
    )  # copy of area.path: scope filters on it
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("summoned by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("summoned at"), default=timezone.now, db_index=True)
    arrive_by = models.DateTimeField(_("arrive by"))
    radius_m = models.PositiveIntegerField(_("arrival radius (m)"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # When the worker found the deadline passed with departments still missing (once: the trail and the
    # dispatcher are told then).
    overdue_at = models.DateTimeField(_("deadline passed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by (person)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "area_path"], name="summons_status_area_idx"),
            models.Index(fields=["status", "arrive_by"], name="summons_status_deadline_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.reason[:30]}"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    @property
    def is_past_deadline(self) -> bool:
        return timezone.now() > self.arrive_by


class SummonedDepartment(models.Model):
    summons = models.ForeignKey(
        Summons, verbose_name=_("summons"), on_delete=models.CASCADE, related_name="departments"
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    notified_at = models.DateTimeField(_("notified at"))
    state = models.CharField(_("state"), max_length=10, choices=Attendance.choices, default=Attendance.WAITING)
    # The first good arrival (a fix near enough and precise enough); flagged reports are in Arrival only.
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    arrived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arrived (person)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    distance_m = models.FloatField(_("distance (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("summoned department")
        verbose_name_plural = _("summoned departments")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["summons", "department"], name="summons_department_once")]
        indexes = [models.Index(fields=["department", "state"], name="summons_dept_state_idx")]

    def __str__(self):
        return f"{self.summons_id} → {self.department}"

    @property
    def overdue(self) -> bool:
        """Still not here past the deadline (live: the page shows it before the summons closes)."""
        return self.state == Attendance.WAITING and timezone.now() > self.summons.arrive_by


class Arrival(models.Model):
    """One report from a phone, as sent: a fix too far, a poor fix or no fix is kept and flagged."""

    summoned = models.ForeignKey(
        SummonedDepartment, verbose_name=_("summoned department"), on_delete=models.CASCADE, related_name="arrivals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.FloatField(_("distance (m)"), null=True, blank=True)
    late = models.BooleanField(_("late"), default=False)
    too_far = models.BooleanField(_("too far"), default=False)
    poor_fix = models.BooleanField(_("poor fix"), default=False)
    no_fix = models.BooleanField(_("no fix"), default=False)

    class Meta:
        verbose_name = _("arrival report")
        verbose_name_plural = _("arrival reports")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.summoned} @ {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("arrival reports are immutable")
        super().save(*args, **kwargs)

    @property
    def counts(self) -> bool:
        """A good fix: near enough and precise enough (late or not)."""
        return not (self.too_far or self.poor_fix or self.no_fix)

    @property
    def flags(self) -> list[str]:
        return [name for name in ("late", "too_far", "poor_fix", "no_fix") if getattr(self, name)]
