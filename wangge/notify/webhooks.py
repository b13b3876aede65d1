"""Signed webhook deliveries: POST {"id", "event", "created_at", "data"} to each subscribed endpoint.

Receivers check X-Wangge-Signature (sha256=<hex HMAC-SHA256 of the raw body, keyed with the
endpoint's secret>) and drop repeats by X-Wangge-Delivery (the same for every retry of a delivery).
"""

import hashlib
import hmac
import json

from .http import PermanentDeliveryError, post_json
from .models import Notification


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature or "")


def webhook_body(notification: Notification) -> bytes:
    """The same bytes on every retry: built only from what the row stores."""
    document = {
        "id": notification.pk,
        "event": notification.subject,
        "created_at": notification.created_at.isoformat(),
        "data": notification.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def send_webhook(notification: Notification) -> None:
    endpoint = notification.endpoint
    if endpoint is None or not endpoint.is_active:
        raise PermanentDeliveryError("webhook endpoint is gone or inactive")
    body = webhook_body(notification)
    headers = {
        "X-Wangge-Event": notification.subject,
        "X-Wangge-Delivery": str(notification.pk),
        "X-Wangge-Signature": sign(endpoint.secret, body),
        "User-Agent": "wangge-webhooks",
    }
    post_json(endpoint.url, body, headers)
