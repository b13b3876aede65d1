"""Every change to sensors and their readings.

record_reading() is the one way in for a reading (MQTT, the API, tests): a message id seen before
changes nothing; a reading past the threshold opens a case through cases.actions (channel
"sensor", idempotency key from the message id), unless this sensor's earlier alarm is still an
open case: then the reading joins that case and nothing new is reported.
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.areas.locate import OutsideCity, locate
from wangge.cases import actions as cases
from wangge.cases.models import OPEN_STATUSES, Case, Channel
from wangge.history.actions import record_change, snapshot
from wangge.history.models import ChangeAction

from .models import Reading, Sensor

logger = logging.getLogger(__name__)


def place(sensor: Sensor) -> None:
    """Its point (else its standard address's point) and the area holding it; ValidationError if none."""
    if sensor.address_id and (sensor.lat is None or sensor.lng is None):
        sensor.lat, sensor.lng = sensor.address.lat, sensor.address.lng
    if sensor.lat is None or sensor.lng is None:
        raise ValidationError({"lat": _("Give the sensor's place: a point (lat, lng) or a standard address.")})
    try:
        located = locate(sensor.lat, sensor.lng)
    except OutsideCity as exc:
        raise ValidationError({"lat": _("This place is outside the city.")}) from exc
    sensor.area_id, sensor.area_path = located.id, located.path


def save_sensor(sensor: Sensor, user=None) -> Sensor:
    """Place the sensor and save it, recorded in history."""
    place(sensor)
    with transaction.atomic():
        before = snapshot(Sensor.objects.get(pk=sensor.pk)) if sensor.pk else None
        sensor.save()
        record_change(
            sensor,
            ChangeAction.UPDATE if before else ChangeAction.CREATE,
            acting_user=user,
            before=before,
            after=snapshot(sensor),
        )
    return sensor


@dataclass
class Received:
    reading: Reading
    new: bool  # False: this message id was seen before, nothing changed
    case: Case | None = None  # the case the alarm went to
    new_case: bool = False


SEQ_MAX = 2**63 - 1


def _plain_number(value) -> bool:
    """A JSON number: not a boolean (True is an int in Python), not a string."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(code, message_id, value, measured_at, seq=None):
    """The reading as stored, or ValidationError naming each bad field (and a log line saying why):
    a sensor that sends true, "12", NaN, an impossible value or a time far ahead is faulty, and its
    reading must not count as a sign of life nor raise an alarm."""
    errors = {}
    if isinstance(message_id, bool) or not isinstance(message_id, str | int) or not str(message_id).strip():
        errors["id"] = _("Every message needs an id.")
    elif len(str(message_id)) > 100:
        errors["id"] = _("At most 100 characters.")
    if not _plain_number(value) or not math.isfinite(value):
        errors["value"] = _("The value must be a number.")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= SEQ_MAX):
        errors["seq"] = _("The sequence number must be a whole number, 0 or more.")
    if measured_at is not None and not isinstance(measured_at, datetime):
        try:
            if not isinstance(measured_at, str):
                raise ValueError
            measured_at = datetime.fromisoformat(measured_at)
        except ValueError:
            errors["at"] = _("Give the time as ISO 8601, e.g. 2026-05-01T08:30:00+08:00.")
    if isinstance(measured_at, datetime):
        if timezone.is_naive(measured_at):
            measured_at = timezone.make_aware(measured_at)
        ahead = timedelta(seconds=settings.SENSOR_CLOCK_SKEW_SECONDS)
        if measured_at > timezone.now() + ahead:
            errors["at"] = _("The time is in the future: check the sensor's clock.")
    sensor = Sensor.objects.filter(code=code, is_active=True).select_related("matter_item", "address").first()
    if sensor is None:
        errors["sensor"] = _("Unknown sensor %(code)s.") % {"code": code}
    elif "value" not in errors:
        low, high = sensor.valid_min, sensor.valid_max
        if low is None and high is None:
            low, high = -settings.SENSOR_VALUE_LIMIT, settings.SENSOR_VALUE_LIMIT
        if (low is not None and value < low) or (high is not None and value > high):
            errors["value"] = _("%(value)s is outside this sensor's valid range (%(low)s to %(high)s).") % {
                "value": f"{value:g}",
                "low": "—" if low is None else f"{low:g}",
                "high": "—" if high is None else f"{high:g}",
            }
    if errors:
        logger.warning("sensor reading of %s refused: %s", code, {k: str(v) for k, v in errors.items()})
        raise ValidationError(errors)
    return sensor, str(message_id).strip(), float(value), measured_at or timezone.now()


def open_alarm(sensor: Sensor) -> Case | None:
    """The open case an earlier alarm of this sensor made, if any."""
    case_ids = Reading.objects.filter(sensor=sensor, case__isnull=False).values("case")
    return Case.objects.filter(pk__in=case_ids, status__in=OPEN_STATUSES).order_by("-created_at").first()


def record_reading(code: str, message_id, value, measured_at=None, seq=None) -> Received:
    sensor, message_id, value, measured_at = _check(code, message_id, value, measured_at, seq)
    seen = Reading.objects.filter(sensor=sensor, message_id=message_id).select_related("case").first()
    if seen is not None:
        return Received(seen, new=False, case=seen.case)
    alarm = sensor.is_alarm(value)
    try:
        with transaction.atomic():
            # One reading of a sensor at a time: two alarms at once must not open two cases.
            Sensor.objects.select_for_update().filter(pk=sensor.pk).first()
            reading = Reading.objects.create(
                sensor=sensor, message_id=message_id, seq=seq, value=value, measured_at=measured_at, is_alarm=alarm
            )
            received = Received(reading, new=True)
            if alarm:
                received.case = open_alarm(sensor)
                if received.case is None:
                    received.case, received.new_case = cases.report_case(_report(sensor, reading), system=True)
                reading.case = received.case
                reading.save(update_fields=["case"])
            return received
    except IntegrityError:
        seen = Reading.objects.filter(sensor=sensor, message_id=message_id).select_related("case").first()
        if seen is None:
            raise
        return Received(seen, new=False, case=seen.case)


def _report(sensor: Sensor, reading: Reading) -> cases.Report:
    text = _("Sensor %(name)s (%(code)s) reports %(value)s %(metric)s; alarm threshold %(threshold)s.") % {
        "name": sensor.name,
        "code": sensor.code,
        "value": f"{reading.value:g}",
        "metric": sensor.metric,
        "threshold": f"{sensor.threshold:g}",
    }
    return cases.Report(
        description=text,
        channel=Channel.SENSOR,
        lat=sensor.lat,
        lng=sensor.lng,
        matter_item=sensor.matter_item.code,
        address=sensor.address.full_text[:200] if sensor.address_id else "",
        reporter_name=sensor.name[:50],
        idempotency_key=f"sensor:{sensor.code}:{reading.message_id}"[:150],
    )
