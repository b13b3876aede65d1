"""IoT sensors (smoke, water level, gas, manhole covers…) that report problems themselves: each
sensor sits at a point (or a standard address), watches one value against a threshold, and a
reading past the threshold becomes a case (channel "sensor") through cases.actions."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    SMOKE = "smoke", _("Smoke detector")
    GAS = "gas", _("Gas detector")
    WATER_LEVEL = "water_level", _("Water level")
    MANHOLE = "manhole", _("Manhole cover")
    NOISE = "noise", _("Noise")
    OTHER = "other", _("Other")


class Direction(models.TextChoices):
    ABOVE = "above", _("Alarm at or above the threshold")
    BELOW = "below", _("Alarm at or below the threshold")


class Sensor(models.Model):
    code = models.CharField(_("code"), max_length=60, unique=True, help_text=_("Also its MQTT topic segment."))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.ForeignKey(
        "registry.StandardAddress",
        verbose_name=_("standard address"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), null=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    matter_item = models.ForeignKey(
        "cases.MatterItem", verbose_name=_("matter item"), on_delete=models.PROTECT, related_name="+"
    )
    metric = models.CharField(_("measured value"), max_length=40, blank=True, help_text=_("e.g. ppm, m, dB"))
    threshold = models.FloatField(_("threshold"))
    direction = models.CharField(_("alarm when"), max_length=10, choices=Direction.choices, default=Direction.ABOVE)
    is_active = models.BooleanField(_("active"), default=True)
    valid_min = models.FloatField(
        _("lowest valid value"), null=True, blank=True, help_text=_("Readings below it are refused as faulty.")
    )
    valid_max = models.FloatField(
        _("highest valid value"), null=True, blank=True, help_text=_("Readings above it are refused as faulty.")
    )
    report_every = models.PositiveIntegerField(
        _("reports every (seconds)"),
        null=True,
        blank=True,
        help_text=_("How often it sends a reading; missing readings are counted against it."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def is_alarm(self, value: float) -> bool:
        return value >= self.threshold if self.direction == Direction.ABOVE else value <= self.threshold


class Reading(models.Model):
    """One message of a sensor; its message id makes a repeated delivery harmless."""

    sensor = models.ForeignKey(Sensor, verbose_name=_("sensor"), on_delete=models.CASCADE, related_name="readings")
    message_id = models.CharField(_("message id"), max_length=100)
    # The sensor's own message counter, when its payload carries one ("seq"): jumps are missing readings.
    seq = models.PositiveBigIntegerField(_("sequence number"), null=True, blank=True)
    value = models.FloatField(_("value"))
    measured_at = models.DateTimeField(_("measured at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    is_alarm = models.BooleanField(_("alarm"), default=False)
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["sensor", "message_id"], name="reading_message_once")]
        indexes = [
            models.Index(fields=["sensor", "case"]),
            # a sensor's latest reading (the sensor pages' state) and its last days (the chart)
            models.Index(fields=["sensor", "measured_at"], name="reading_sensor_time"),
        ]

    def __str__(self):
        return f"{self.sensor.code} {self.message_id}: {self.value}"
