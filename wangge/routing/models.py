"""Routing: trained models (versioned, one active), what a model suggested for a case, and the
auto-dispatch rules. State changes live in actions.py."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import COMMAND_LEVELS


class ModelStatus(models.TextChoices):
    TRAINING = "training", _("Training")
    READY = "ready", _("Ready")  # trained, not serving
    ACTIVE = "active", _("Serving")
    FAILED = "failed", _("Failed")


class RoutingModel(models.Model):
    """One trained version of the text classifier. Exactly one is active (serving) at a time; a
    rollback makes an earlier ready version active again."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(_("status"), max_length=10, choices=ModelStatus.choices, default=ModelStatus.TRAINING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    shipped_examples = models.PositiveIntegerField(_("examples from the shipped set"), default=0)
    platform_examples = models.PositiveIntegerField(_("examples from the platform's decisions"), default=0)
    label_count = models.PositiveIntegerField(_("classes"), default=0)
    train_seconds = models.FloatField(_("training time (s)"), null=True, blank=True)
    # Measured on the evaluation set, which is never trained on: top1, top3, department, examples.
    metrics = models.JSONField(_("accuracy"), default=dict, blank=True)
    artifact = models.BinaryField(_("model file"), null=True, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True)
    activated_at = models.DateTimeField(_("serving since"), null=True, blank=True)

    class Meta:
        verbose_name = _("routing model")
        verbose_name_plural = _("routing models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="routing_one_active_model"
            )
        ]

    def __str__(self):
        return f"v{self.version}"


class CaseSuggestion(models.Model):
    """What a model suggested for a case (kept with the case: which version, the ranked list) and
    what became of it: auto-dispatched, undone, or the label the dispatcher chose."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="routing")
    model = models.ForeignKey(RoutingModel, verbose_name=_("model"), on_delete=models.PROTECT, related_name="+")
    suggestions = models.JSONField(_("suggestions"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    auto_rule = models.ForeignKey(
        "AutoDispatchRule", verbose_name=_("auto-dispatch rule"), null=True, blank=True, on_delete=models.SET_NULL
    )
    auto_routed_at = models.DateTimeField(_("auto-dispatched at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("auto-dispatch undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("routing suggestion")
        verbose_name_plural = _("routing suggestions")

    def __str__(self):
        return f"{self.case_id} · v{self.model_id}"

    @property
    def top(self) -> dict | None:
        return self.suggestions[0] if self.suggestions else None


COMMAND_LEVEL_CHOICES = [(level.value, level.label) for level in COMMAND_LEVELS]


class AutoDispatchRule(models.Model):
    """Off unless a rule says so: cases of this matter item waiting at this command level are
    registered and dispatched without a dispatcher when the model's top suggestion is this matter
    item with at least this confidence."""

    matter_item = models.ForeignKey(
        "cases.MatterItem", verbose_name=_("matter item"), on_delete=models.CASCADE, related_name="+"
    )
    command_level = models.CharField(_("command level"), max_length=10, choices=COMMAND_LEVEL_CHOICES)
    threshold = models.FloatField(_("minimum confidence"), default=0.9)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("auto-dispatch rule")
        verbose_name_plural = _("auto-dispatch rules")
        ordering = ["matter_item__code", "command_level"]
        constraints = [
            models.UniqueConstraint(fields=["matter_item", "command_level"], name="routing_auto_rule_unique"),
            models.CheckConstraint(
                condition=models.Q(threshold__gt=0, threshold__lte=1), name="routing_auto_threshold_range"
            ),
        ]

    def __str__(self):
        return f"{self.matter_item} · {self.get_command_level_display()} · ≥{self.threshold:.2f}"
