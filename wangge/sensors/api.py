"""Sensors in the JSON API: the sensors in your jurisdiction with their latest readings, and a
reading posted over HTTP (for gateways that do not speak MQTT) — the same record_reading as MQTT."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from wangge.accounts.scope import is_admin
from wangge.core.apitypes import errors

from . import actions, queries
from .models import Sensor

router = Router(tags=["sensors"])


class SensorOut(Schema):
    code: str
    name: str
    kind: str
    lat: float | None
    lng: float | None
    area_code: str
    matter_item: str
    metric: str
    threshold: float
    direction: str
    is_active: bool
    report_every: int | None
    missing_readings: int | None = Field(
        description="readings missing in the last hours (by its message counter, else by report_every); null: unknown"
    )


class ReadingIn(Schema):
    id: str
    value: float = Field(strict=True, description='a JSON number: true, "12" and the like are refused')
    at: datetime | None = Field(None, description="when measured; at most the allowed skew ahead of the server")
    seq: int | None = Field(None, strict=True, ge=0, description="the sensor's message counter, if it keeps one")


class ReadingOut(Schema):
    message_id: str
    seq: int | None
    value: float
    measured_at: datetime
    received_at: datetime
    is_alarm: bool
    case: int | None


class ReceivedOut(Schema):
    new: bool
    case: int | None
    new_case: bool


def sensor_out(s: Sensor, missing: dict) -> dict:
    fields = ("code", "name", "kind", "lat", "lng", "metric", "threshold", "direction", "is_active", "report_every")
    return {
        **{f: getattr(s, f) for f in fields},
        "missing_readings": missing.get(s.pk),
        "area_code": s.area.code if s.area_id else "",
        "matter_item": s.matter_item.code,
    }


def _sensors(user):
    return queries.sensors(user)


@router.get("", response={200: list[SensorOut], **errors(403)}, summary="Sensors in your jurisdiction")
def list_sensors(request):
    rows = list(_sensors(request.user))
    missing = queries.missing_readings(rows)
    return [sensor_out(s, missing) for s in rows]


@router.get(
    "/{code}/readings", response={200: list[ReadingOut], **errors(403, 404)}, summary="A sensor's latest readings (100)"
)
def list_readings(request, code: str):
    sensor = get_object_or_404(_sensors(request.user), code=code)
    return [
        {
            **{f: getattr(r, f) for f in ("message_id", "seq", "value", "measured_at", "received_at", "is_alarm")},
            "case": r.case_id,
        }
        for r in sensor.readings.all()[:100]
    ]


@router.post(
    "/{code}/readings", response={200: ReceivedOut, 201: ReceivedOut, **errors(400, 403, 404)}, summary="Post a reading"
)
def post_reading(request, code: str, payload: ReadingIn):
    """For sensor gateways (an admin's token): the same rules as MQTT. 201 when the message is new."""
    if not is_admin(request.user):
        raise PermissionDenied("only an administrator's token may post sensor readings")
    get_object_or_404(_sensors(request.user), code=code)
    received = actions.record_reading(code, payload.id, payload.value, payload.at, payload.seq)
    body = {"new": received.new, "case": received.case.pk if received.case else None, "new_case": received.new_case}
    return Status(201 if received.new else 200, body)
