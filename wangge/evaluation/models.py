"""Performance evaluation (考核): schemes (indicators × weights × targets, versioned), reports of a
period per scheme (draft → published, frozen, revisions kept), and appeals against a counted case.
The figures themselves come from the trail (indicators/); state changes live in actions.py."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SubjectType(models.TextChoices):
    DEPARTMENT = "department", _("Departments")
    GRID_MANAGER = "grid_manager", _("Grid managers")
    AREA = "area", _("Areas")
    DESK = "desk", _("Command center desks")


class Scheme(models.Model):
    """A named evaluation of one kind of subject; what it measures lives in its versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    subject_type = models.CharField(_("evaluated"), max_length=20, choices=SubjectType.choices)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evaluation scheme")
        verbose_name_plural = _("evaluation schemes")
        ordering = ["subject_type", "code"]

    def __str__(self):
        return self.name

    def version_for(self, start):
        """The version in force on a period's first day (the latest that started by then)."""
        return self.versions.filter(valid_from__lte=start).order_by("-valid_from", "-number").first()


class SchemeVersion(models.Model):
    """One edition of a scheme; never changed once saved (an edit makes the next version).

    body: {"items": [{"indicator", "weight", "target"}], "adjustments": [{"indicator", "points", "cap"}],
    "grades": {"excellent": 90, "good": 80, "pass": 60}, "flag_below": 60, "sms_heads": false}
    """

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    valid_from = models.DateField(_("in force from"))
    body = models.JSONField(_("content"))
    note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("scheme version")
        verbose_name_plural = _("scheme versions")
        ordering = ["scheme", "-number"]
        constraints = [models.UniqueConstraint(fields=["scheme", "number"], name="evaluation_version_unique")]

    def __str__(self):
        return f"{self.scheme} v{self.number}"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded by a later revision")


class Report(models.Model):
    """A scheme's scores for one period: computed as a draft, reviewed, then published (frozen)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="reports")
    version = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="reports")
    period_key = models.CharField(_("period"), max_length=30)  # 2026-11, 2026-Q4, 2026, 2026-11-01~2026-11-15
    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    status = models.CharField(_("status"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    revision = models.PositiveIntegerField(_("revision"), default=0)  # 1, 2… once published
    as_of = models.DateTimeField(_("computed from the trail as of"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("why published again"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evaluation report")
        verbose_name_plural = _("evaluation reports")
        ordering = ["-period_start", "scheme", "-revision"]
        constraints = [
            # One published report per scheme and period: a second concurrent publication fails here.
            models.UniqueConstraint(
                fields=["scheme", "period_key"], condition=Q(status="published"), name="evaluation_one_published"
            ),
            models.UniqueConstraint(
                fields=["scheme", "period_key", "revision"], condition=Q(revision__gt=0), name="evaluation_revision"
            ),
        ]

    def __str__(self):
        return f"{self.scheme} {self.period_key}"


class ReportRow(models.Model):
    """One subject's result in a report. `slice_path` is "" for the subject's whole figures, or a
    town's path for a department's work in that town (what the town's leaders see)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="rows")
    subject_key = models.CharField(max_length=60)  # department code, user id, area code, desk key
    subject_label = models.CharField(max_length=200)
    subject_path = models.CharField(max_length=255, blank=True)  # the subject's own area path (scope)
    slice_path = models.CharField(max_length=255, blank=True, default="")
    score = models.FloatField(null=True, blank=True)
    grade = models.CharField(max_length=12, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    measures = models.JSONField(default=dict)  # counts and sums from the trail
    indicators = models.JSONField(default=dict)  # the scheme's indicators: rates, averages, counts
    points = models.JSONField(default=dict)  # score per item and adjustment
    # Frozen on publication: {measure: [case ids]}; zlib-compressed JSON (a month can count 100k cases).
    case_ids = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["report", "slice_path", "rank", "subject_key"]
        indexes = [models.Index(fields=["report", "slice_path", "subject_key"])]

    def __str__(self):
        return f"{self.report} {self.subject_label}"


class AppealStatus(models.TextChoices):
    # A context: "Accepted" alone is an assignment's 已签收 in the catalogue.
    PENDING = "pending", pgettext_lazy("appeal", "Waiting for a decision")
    ACCEPTED = "accepted", pgettext_lazy("appeal", "Accepted")
    REFUSED = "refused", pgettext_lazy("appeal", "Refused")


class Appeal(models.Model):
    """申诉: a department or grid manager contests one counted case of a period. An accepted appeal
    takes the case out of that subject's figures, or moves it to the department that should have had it."""

    subject_type = models.CharField(_("evaluated"), max_length=20, choices=SubjectType.choices)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.CASCADE
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evaluation_appeals",
    )
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    case_path = models.CharField(max_length=255)  # copy of the case's area path: who may decide
    period_key = models.CharField(_("period"), max_length=30)
    period_start = models.DateField()
    period_end = models.DateField()
    reason = models.TextField(pgettext_lazy("appeal", "reason"))
    photos = models.ManyToManyField("cases.CasePhoto", blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    reattribute_to = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("count for department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField(_("decision"), blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at"]
        constraints = [
            # One appeal per subject, case and period (NULLs never clash, hence one constraint per kind).
            models.UniqueConstraint(
                fields=["department", "case", "period_key"],
                condition=Q(department__isnull=False),
                name="evaluation_one_department_appeal",
            ),
            models.UniqueConstraint(
                fields=["worker", "case", "period_key"],
                condition=Q(worker__isnull=False),
                name="evaluation_one_worker_appeal",
            ),
        ]

    def __str__(self):
        return f"{self.case} · {self.period_key}"

    @property
    def subject_key(self) -> str:
        return self.department.code if self.department_id else str(self.worker_id)
