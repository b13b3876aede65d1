"""The desk for a desk client (/api/v1/hotline): caller lookup, file a call, link a caller. Same
actions and scope as the page; hotline operators only."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from wangge.core import pii
from wangge.core.apitypes import Id, errors
from wangge.core.clientip import client_ip

from . import lookup
from .actions import COMPLAINT, Call, file_call, link_caller, may_take_calls

router = Router(tags=["hotline"])


def _operator(request):
    if not may_take_calls(request.user):
        raise PermissionDenied(_("Only hotline operators take calls at the hotline desk."))


class CallerIn(Schema):
    phone: str


class HistoryOut(Schema):
    id: int
    number: str | None
    created_at: datetime
    status: str
    status_label: str
    outcome_label: str
    category: str
    description: str
    reporter_name: str
    last_note: str


class CallerOut(Schema):
    phone_masked: str
    cases: list[HistoryOut]


class CallIn(Schema):
    phone: str
    description: str
    kind: str = COMPLAINT
    answer: str = ""
    caller_name: str = ""
    lat: float | None = None
    lng: float | None = None
    area_code: str = ""
    address: str = ""
    category: str = ""
    matter_item: str = ""
    severity: str = ""
    idempotency_key: str = ""


class FiledOut(Schema):
    id: int
    number: str | None
    tracking_number: str
    status: str
    outcome: str
    command_level: str
    likely_duplicate_of: int | None


class LinkIn(Schema):
    case: Id
    phone: str
    name: str = ""


class LinkOut(Schema):
    case: int
    number: str | None


class NearbyOut(Schema):
    id: int
    number: str | None
    status_label: str
    category: str
    description: str
    distance: int
    likely_duplicate: bool


@router.post("/caller", response={200: CallerOut, **errors(400, 403)})
def caller(request, payload: CallerIn):
    """A caller's earlier cases (POST: the number stays out of URLs and logs); masked; the look-up is
    logged as a personal-data access."""
    _operator(request)
    phone = pii.normalize_phone(payload.phone)
    if not pii.is_valid_phone(phone):
        raise ValidationError({"phone": _("Not a valid phone number.")})
    cases = lookup.caller_history(request.user, phone, ip=client_ip(request))
    return {"phone_masked": pii.mask_phone(phone), "cases": cases}


@router.get("/nearby", response={200: list[NearbyOut], **errors(403)})
def nearby(request, lat: float, lng: float):
    """Open cases near a place (the likely duplicates of a call)."""
    _operator(request)
    return lookup.nearby_open_cases(request.user, lat, lng)


@router.post("/calls", response={201: FiledOut, **errors(400, 403, 409)})
def file(request, payload: CallIn):
    """File a call: a complaint waits for dispatch at the command level of the place; a consultation
    (kind=consultation, with the answer) is closed at once as answered on the spot."""
    case = file_call(request.user, Call(**payload.dict()))
    fields = ("id", "number", "tracking_number", "status", "outcome", "command_level")
    return Status(201, {**{f: getattr(case, f) for f in fields}, "likely_duplicate_of": case.duplicate_of_id})


@router.post("/links", response={201: LinkOut, **errors(400, 403)})
def link(request, payload: LinkIn):
    """Link the caller to an existing open case: they are told its outcome by SMS."""
    caller_ = link_caller(request.user, payload.case, payload.phone, payload.name)
    return Status(201, {"case": caller_.case_id, "number": caller_.case.number})
