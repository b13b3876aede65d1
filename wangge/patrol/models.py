"""Field work: GPS tracks of field workers (one compact row per worker and day) and last positions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.registry.models import RiskClass


class TrackDay(models.Model):
    """A worker's track for one local day (Asia/Shanghai).

    The points are packed in `points` (see tracks.py: 14 bytes per point, sorted by time, one point per
    second at most), so a city's 8,000 workers add 8,000 rows a day instead of millions; the figures
    are computed from the points whenever they change, so pages never read the points to list a day.
    """

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("worker"), on_delete=models.CASCADE, related_name="track_days"
    )
    day = models.DateField(_("day"))
    points = models.BinaryField(_("points"), default=b"")
    point_count = models.PositiveIntegerField(_("points"), default=0)
    flagged_count = models.PositiveIntegerField(_("points with poor or no accuracy"), default=0)
    first_at = models.DateTimeField(_("first point"), null=True)
    last_at = models.DateTimeField(_("last point"), null=True)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    seconds_on_duty = models.PositiveIntegerField(_("time on duty (s)"), default=0)
    seconds_in_grid = models.PositiveIntegerField(_("time inside the assigned grid (s)"), default=0)
    buildings_passed = models.PositiveIntegerField(_("registered buildings passed"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Bumped by every write: a batch merged from a copy read earlier is written only if nobody wrote
    # in between (otherwise merged again), so no lock is held while the points are merged.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("track day")
        verbose_name_plural = _("track days")
        constraints = [models.UniqueConstraint(fields=["worker", "day"], name="patrol_track_day_unique")]
        indexes = [models.Index(fields=["day", "worker"])]

    def __str__(self):
        return f"{self.worker} {self.day}"


class WorkerPosition(models.Model):
    """A worker's latest known position, for the command map and 'nearest worker'."""

    worker = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("worker"), on_delete=models.CASCADE, related_name="position"
    )
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True)
    at = models.DateTimeField(_("time"))
    # The leaf area the point lies in ("" outside the city), for jurisdiction filters.
    area_path = models.CharField(_("area path"), max_length=200, blank=True, db_index=True)

    class Meta:
        verbose_name = _("worker position")
        verbose_name_plural = _("worker positions")

    def __str__(self):
        return f"{self.worker} @ {self.at:%Y-%m-%d %H:%M}"


# ---- Inspections: checklists (versioned), plan rules, tasks, inspections and their answers ----


class TargetKind(models.TextChoices):
    BUILDING = "building", _("Building")
    RENTAL = "rental", _("Rental house")
    PLACE = "place", _("Place")
    # An ad-hoc task at a point with a description (a recurring spot to check: wangge.proactive);
    # no register row behind it, the task itself is the target (SpotTarget).
    SPOT = "spot", _("Spot check")


class AnswerType(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Text")
    PHOTO = "photo", _("Photo")


class Checklist(models.Model):
    """One version of a checklist. A used version is never changed: a new version is added and made
    current, and every inspection keeps the version it was done with."""

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    target_kind = models.CharField(_("for"), max_length=10, choices=TargetKind.choices)
    is_current = models.BooleanField(_("current version"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="patrol_checklist_version_unique")]

    def __str__(self):
        return f"{self.name} v{self.version}"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(_("code"), max_length=40)
    text = models.CharField(_("question"), max_length=200)
    answer_type = models.CharField(_("answer"), max_length=10, choices=AnswerType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # When the answer means a failure: "no" for yes/no, the listed choices, a number outside min..max.
    failing_choices = models.JSONField(_("failing choices"), default=list, blank=True)
    min_value = models.FloatField(_("lowest passing number"), null=True, blank=True)
    max_value = models.FloatField(_("highest passing number"), null=True, blank=True)
    required = models.BooleanField(_("required"), default=True)
    # 采集项: information collected on the visit, never a failure.
    is_collection = models.BooleanField(_("information only"), default=False)
    matter_item = models.ForeignKey(
        "cases.MatterItem",
        verbose_name=_("a failure becomes a case of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["checklist", "code"], name="patrol_item_code_unique")]

    def __str__(self):
        return self.text


def checklist_name(code: str) -> str:
    """A checklist by its current name (rules and tasks keep the code: it outlives the versions)."""
    return Checklist.objects.filter(code=code, is_current=True).values_list("name", flat=True).first() or code


class InspectionRule(models.Model):
    """How often a kind of target is inspected, and with which checklist. The most specific active rule
    for a target applies (a rule with a risk class or place type beats a general one)."""

    target_kind = models.CharField(_("for"), max_length=10, choices=TargetKind.choices)
    risk_class = models.PositiveSmallIntegerField(_("building risk class"), null=True, blank=True)
    place_type = models.ForeignKey(
        "registry.PlaceType", verbose_name=_("place type"), null=True, blank=True, on_delete=models.CASCADE
    )
    three_small_only = models.BooleanField(_("three-small places only"), default=False)
    every_days = models.PositiveIntegerField(_("every (days)"))
    checklist_code = models.SlugField(_("checklist"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inspection rule")
        verbose_name_plural = _("inspection rules")

    def __str__(self):
        return _("%(kind)s every %(n)s days: %(checklist)s") % {
            "kind": self.get_target_kind_display(),
            "n": self.every_days,
            "checklist": checklist_name(self.checklist_code),
        }


class TargetFields(models.Model):
    """What is inspected: exactly one of building, rental house, place; target_key says which."""

    target_kind = models.CharField(_("target"), max_length=10, choices=TargetKind.choices)
    building = models.ForeignKey("registry.Building", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rental = models.ForeignKey(
        "registry.RentalHouse", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    place = models.ForeignKey("registry.Place", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_key = models.CharField(max_length=30, db_index=True)  # "building:12"
    area_path = models.CharField(max_length=255, db_index=True)

    class Meta:
        abstract = True

    @property
    def target(self):
        if self.target_kind == TargetKind.SPOT:
            task = self if isinstance(self, InspectionTask) else self.task
            return SpotTarget(task) if task is not None else None
        return getattr(self, self.target_kind)


class SpotTarget:
    """The place of an ad-hoc task (TargetKind.SPOT): its point, area and what to check. Stands in
    for a register row wherever a task's or an inspection's target is read."""

    def __init__(self, task):
        self.task = task
        self.pk = self.id = task.pk
        self.lat, self.lng = task.lat, task.lng
        self.area_path = task.area_path

    @property
    def area(self):
        from wangge.areas.models import Area

        return Area.objects.defer("boundary").get(path=self.area_path)

    def __str__(self):
        return _("Spot check: %(what)s") % {"what": self.task.note[:60]}


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class InspectionTask(TargetFields):
    checklist_code = models.SlugField(_("checklist"), max_length=40)
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # The building's (registry.RiskClass): 3 is the highest risk, first in the worker's list.
    risk_class = models.PositiveSmallIntegerField(_("risk class"), choices=RiskClass.choices, default=RiskClass.LOW)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # Ad-hoc tasks (TargetKind.SPOT) only: where, and what to look at.
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    note = models.TextField(_("what to check"), blank=True)

    class Meta:
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        ordering = ["-risk_class", "due_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_key"], condition=models.Q(status="open"), name="patrol_one_open_task_per_target"
            )
        ]
        indexes = [models.Index(fields=["status", "area_path", "due_date"])]

    def __str__(self):
        return f"{self.target_key} {self.due_date}"


class GpsQuality(models.TextChoices):
    GOOD = "good", _("Good")
    POOR = "poor", _("Poor accuracy")
    MISSING = "missing", _("No GPS")


class InspectionResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    CORRECTED = "corrected", _("Corrected on site")
    CASES = "cases", _("Cases reported")


class Inspection(TargetFields):
    task = models.ForeignKey(InspectionTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checklist = models.ForeignKey(Checklist, verbose_name=_("checklist"), on_delete=models.PROTECT)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("inspector"), on_delete=models.PROTECT, related_name="inspections"
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    gps = models.CharField(_("GPS"), max_length=10, choices=GpsQuality.choices)
    result = models.CharField(_("result"), max_length=10, choices=InspectionResult.choices)
    note = models.TextField(_("note"), blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["target_key", "finished_at"])]

    def __str__(self):
        return f"{self.target_key} {self.finished_at:%Y-%m-%d}"


class Resolution(models.TextChoices):
    CORRECTED = "corrected", _("Corrected on site")
    CASE = "case", _("Reported as a case")


class InspectionAnswer(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    value = models.JSONField(_("answer"), null=True)
    passed = models.BooleanField(_("passed"), null=True)  # None: information only
    resolution = models.CharField(_("resolution"), max_length=10, choices=Resolution.choices, blank=True)
    photo = models.ForeignKey("cases.CasePhoto", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["item__order", "pk"]

    def __str__(self):
        return f"{self.item}: {self.value}"


class ResidentRegistration(models.Model):
    """A resident or tenant registered (or moved in) from the field app, under the phone's idempotency
    key: a registration sent again, because the answer was lost, answers with the same person."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey("registry.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("registry.Room", verbose_name=_("room"), on_delete=models.CASCADE, related_name="+")
    moved = models.BooleanField(_("already registered: moved in"), default=False)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("resident registered in the field")
        verbose_name_plural = _("residents registered in the field")

    def __str__(self):
        return f"{self.person} → {self.room}"
