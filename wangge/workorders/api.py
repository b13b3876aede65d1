"""POST /api/v1/workorders: an external hotline platform pushes a work order (docs/workorders.md).

Signed like our webhooks, in reverse: X-Wangge-Platform names the platform, X-Wangge-Signature is
sha256=<hex HMAC-SHA256 of the raw body, keyed with the platform's secret>. The body is read as
JSON by the action, so a bad field is a 400 naming it (the documented schema), not a 422.
"""

import json

from ninja import Router, Status
from ninja.security import APIKeyHeader

from wangge.core import ratelimit
from wangge.core.apitypes import errors
from wangge.notify.webhooks import verify

from . import actions
from .models import Platform


class PlatformSignature(APIKeyHeader):
    param_name = "X-Wangge-Signature"

    def authenticate(self, request, key):
        code = request.headers.get("X-Wangge-Platform", "")
        ratelimit.check(request, "workorder", key=f"{code}:{ratelimit.client_ip(request)}")
        platform = Platform.objects.filter(code=code, is_active=True).first() if code else None
        if platform is None or not verify(platform.secret, request.body, key):
            return None
        return platform


router = Router(tags=["workorders"])


@router.post(
    "",
    auth=PlatformSignature(),
    response={200: dict, 201: dict, **errors(400, 401, 422, 429)},
    summary="A hotline platform's work order (signed); the same order_id again answers 200 with the case it made",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def receive(request):
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return Status(400, {"detail": "the body is not JSON", "errors": {"__all__": ["not JSON"]}})
    order, created = actions.receive_order(request.auth, body)
    return Status(201 if created else 200, {**actions.order_out(order), "created": created})
