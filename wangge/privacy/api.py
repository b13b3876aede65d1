"""POST /api/v1/privacy/reveal: the same logged "show in full" for API clients (the mobile app)."""

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema, Status

from wangge.core.apitypes import Id, errors
from wangge.core.clientip import client_ip

from . import actions
from .views import find_object

router = Router(tags=["privacy"])


class RevealIn(Schema):
    type: str  # "registry.person", "cases.case"
    id: Id
    field: str
    reason: str


class RevealOut(Schema):
    value: str


@router.post("/reveal", response={200: RevealOut, **errors(400, 403, 404)})
def reveal(request, payload: RevealIn):
    obj = find_object(request.user, payload.type, str(payload.id), payload.field)
    try:
        value = actions.reveal(request.user, obj, payload.field, payload.reason, ip=client_ip(request))
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    return {"value": value}
