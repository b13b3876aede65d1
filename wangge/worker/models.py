"""The worker's periodic tasks: one row each, holding its lease (which worker runs it now, until
when) and its heartbeat (last started, last finished, last success, last error)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskBeat(models.Model):
    name = models.CharField(_("task"), max_length=100, unique=True)
    every_seconds = models.PositiveIntegerField(_("period (seconds)"))
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    # The lease: a run holds it and renews it while it works; a killed worker's lease simply ends.
    lease_owner = models.CharField(_("running in"), max_length=200, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    last_started = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_ok = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("periodic task")
        verbose_name_plural = _("periodic tasks")
        ordering = ["name"]

    def __str__(self):
        return self.name
