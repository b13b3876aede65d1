"""The outbox: one Notification row per message per channel (in-app, SMS, webhook).

In-app rows are delivered when written (the bell reads them). SMS and webhook rows wait as
"pending" until a worker claims and sends them (wangge.notify.actions.deliver_due). Change them only
through wangge.notify.actions.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core import pii


class Channel(models.TextChoices):
    INAPP = "inapp", _("In-app")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A receiver of events: each POST is signed with its secret (X-Wangge-Signature)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("secret"), max_length=200, default=generate_secret, help_text=_("HMAC-SHA256 key for X-Wangge-Signature.")
    )
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_('Event names, e.g. ["case.created"]; empty for all.')
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name or self.url

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # SMS: the number, encrypted; phone_hash (keyed, pii.lookup_hash) lets a bare number be deduplicated.
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("webhook endpoint"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)  # webhooks: the event name
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)  # webhooks: the event data
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="notify_unread_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="notify_due_idx"),
        ]
        constraints = [
            # One message per key: per user and channel; per bare phone number; per webhook endpoint.
            models.UniqueConstraint(
                fields=["recipient", "channel", "dedupe_key"],
                condition=models.Q(recipient__isnull=False, dedupe_key__isnull=False),
                name="notify_unique_recipient_key",
            ),
            models.UniqueConstraint(
                fields=["phone_hash", "dedupe_key"],
                condition=models.Q(recipient__isnull=True, channel="sms", dedupe_key__isnull=False),
                name="notify_unique_phone_key",
            ),
            models.UniqueConstraint(
                fields=["endpoint", "dedupe_key"],
                condition=models.Q(endpoint__isnull=False, dedupe_key__isnull=False),
                name="notify_unique_endpoint_key",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} #{self.pk} {self.subject}"

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_encrypted)

    @property
    def masked_phone(self) -> str:
        return pii.mask_phone(self.phone) if self.phone_encrypted else ""

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def text(self) -> str:
        """What an SMS says."""
        return "\n".join(part for part in (self.subject, self.body) if part)


class SmsMessage(models.Model):
    """An SMS as the development backend (wangge.notify.sms.DevSmsBackend) "sent" it."""

    phone_masked = models.CharField(_("phone"), max_length=30)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sms_messages",
    )

    class Meta:
        verbose_name = _("SMS (development)")
        verbose_name_plural = _("SMS (development)")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.phone_masked}: {self.body[:40]}"
