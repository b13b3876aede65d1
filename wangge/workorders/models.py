"""Work-order exchange (工单对接) with an external hotline platform (the city's 12345).

A Platform pushes work orders in (signed with its own secret); each becomes one case (WorkOrder:
unique per platform and external id). The case's progress goes back to the platform's webhook
endpoint as states (WorkOrderPush: one row per order, state and round, so a state is never sent
twice). Change them only through wangge.workorders.actions.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.notify.models import generate_secret


class Platform(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Sent in X-Wangge-Platform."))
    name = models.CharField(_("name"), max_length=100)
    secret = models.CharField(
        _("secret"),
        max_length=200,
        default=generate_secret,
        help_text=_("HMAC-SHA256 key the platform signs its work orders with (X-Wangge-Signature)."),
    )
    endpoint = models.ForeignKey(
        "notify.WebhookEndpoint",
        verbose_name=_("webhook endpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Where the progress of its work orders is pushed (signed with the endpoint's secret)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("hotline platform")
        verbose_name_plural = _("hotline platforms")
        ordering = ["code"]

    def __str__(self):
        return self.name or self.code


class WorkOrder(models.Model):
    platform = models.ForeignKey(Platform, verbose_name=_("platform"), on_delete=models.PROTECT)
    external_id = models.CharField(_("order number"), max_length=100)
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="work_order"
    )
    caller_name = models.CharField(_("caller"), max_length=50, blank=True)
    # Like every phone: encrypted, and a keyed hash to find the caller's orders (pii.lookup_hash).
    caller_phone_encrypted = models.TextField(blank=True, editable=False)
    caller_phone_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    category_hint = models.CharField(_("category hint"), max_length=100, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "external_id"], name="workorder_unique_external_id")]

    def __str__(self):
        return f"{self.platform.code}:{self.external_id}"


class State(models.TextChoices):
    ACCEPTED = "accepted", pgettext_lazy("work order state", "Accepted")
    DISPATCHED = "dispatched", pgettext_lazy("work order state", "Dispatched")
    FEEDBACK = "feedback", pgettext_lazy("work order state", "Reported back")
    CLOSED = "closed", pgettext_lazy("work order state", "Closed")
    REOPENED = "reopened", pgettext_lazy("work order state", "Reopened")
    CALLBACK = "callback", pgettext_lazy("work order state", "Callback result")


class WorkOrderPush(models.Model):
    """One state told to the platform. round: how often the case was reopened before (a reopened
    case is accepted, dispatched and closed again: each round's states are new ones)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="pushes")
    state = models.CharField(_("state"), max_length=20, choices=State.choices)
    round = models.PositiveSmallIntegerField(default=0)
    seq = models.PositiveIntegerField(default=1)  # the order of the states of one work order
    payload = models.JSONField(default=dict)
    notification = models.ForeignKey(
        "notify.Notification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("pushed state")
        verbose_name_plural = _("pushed states")
        ordering = ["order", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["order", "state", "round"], name="workorder_push_once"),
        ]

    def __str__(self):
        return f"{self.order} {self.state}"

    @property
    def sent_at(self):
        return self.notification.sent_at if self.notification_id else None

    @property
    def dedupe_key(self) -> str:
        return f"workorder:{self.order_id}:{self.state}:{self.round}"
