"""未诉先办 (act before the complaint): a recurring spot turned into proactive work — a case the
command center files itself (channel `proactive`) or an inspection task for the grid's managers —
by a dispatcher or by a spot rule the worker runs."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import OPEN_STATUSES


class WorkKind(models.TextChoices):
    CASE = "case", _("Case for the command center")
    TASK = "task", _("Inspection task for the grid manager")


class SpotRule(models.Model):
    """When a spot of the scope crosses the threshold (min_cases of one category within radius_m in
    the last `days` days), the worker turns it into proactive work of `kind` by itself."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The rule's scope."),
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every category."),
    )
    min_cases = models.PositiveSmallIntegerField(
        _("at least (cases)"), default=5, validators=[MinValueValidator(2), MaxValueValidator(1000)]
    )
    days = models.PositiveSmallIntegerField(
        _("within (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    radius_m = models.PositiveIntegerField(
        _("within (metres)"), default=100, validators=[MinValueValidator(10), MaxValueValidator(2000)]
    )
    kind = models.CharField(_("then"), max_length=10, choices=WorkKind.choices, default=WorkKind.CASE)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("spot rule")
        verbose_name_plural = _("spot rules")
        ordering = ["area_path", "pk"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.area_path = self.area.path
        super().save(*args, **kwargs)


class ProactiveWork(models.Model):
    """One spot acted on. The spot is its category and centre: while this work is open, no other
    work is opened for the same category within its radius (see actions.open_work_near)."""

    category = models.ForeignKey(
        "cases.Category", verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    radius_m = models.PositiveIntegerField(_("radius (m)"))
    days = models.PositiveSmallIntegerField(_("window (days)"))
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=WorkKind.choices)
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "patrol.InspectionTask",
        verbose_name=_("inspection task"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: a spot rule."),
    )
    rule = models.ForeignKey(
        SpotRule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.SET_NULL, related_name="works"
    )
    created_at = models.DateTimeField(_("acted on"), default=timezone.now)
    cases_at_action = models.PositiveIntegerField(_("reports when acted on"))
    spot_case_ids = models.JSONField(_("the spot's reports"), default=list)

    class Meta:
        verbose_name = _("proactive work")
        verbose_name_plural = _("proactive work")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["category", "lat"])]

    def __str__(self):
        return f"{self.category} @ {self.lat:.5f},{self.lng:.5f}"

    @property
    def is_open(self) -> bool:
        if self.case_id:
            return self.case.status in OPEN_STATUSES
        if self.task_id:
            return self.task.status == "open"
        return False
