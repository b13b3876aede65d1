"""SMS backends, chosen by dotted path in settings.SMS_BACKEND.

A backend has send(phone, text, *, idempotency_key, notification=None) and raises on failure. The
idempotency key (the notification id) lets a gateway drop a message it already has: a send retried
after a crash must not reach the phone twice.
"""

import json

from django.conf import settings
from django.utils.module_loading import import_string

from wangge.core import pii

from .http import DeliveryError, post_json


class BaseSmsBackend:
    def send(self, phone: str, text: str, *, idempotency_key: str, notification=None) -> None:
        raise NotImplementedError


class DevSmsBackend(BaseSmsBackend):
    """Sends nothing: records the message (admin: SMS (development)). Drops repeats of a notification."""

    def send(self, phone: str, text: str, *, idempotency_key: str, notification=None) -> None:
        from .models import SmsMessage

        if notification is not None and SmsMessage.objects.filter(notification=notification).exists():
            return
        SmsMessage.objects.create(
            phone_masked=pii.mask_phone(phone), phone_encrypted=pii.encrypt(phone), body=text, notification=notification
        )


class HttpSmsBackend(BaseSmsBackend):
    """POST {"phone", "text", "id"} as JSON to settings.SMS_GATEWAY_URL with a bearer token."""

    def send(self, phone: str, text: str, *, idempotency_key: str, notification=None) -> None:
        if not settings.SMS_GATEWAY_URL:
            raise DeliveryError("WANGGE_SMS_GATEWAY_URL is not set")
        body = json.dumps({"phone": phone, "text": text, "id": idempotency_key}, ensure_ascii=False).encode()
        headers = {"Idempotency-Key": idempotency_key, "User-Agent": "wangge-notify"}
        if settings.SMS_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_GATEWAY_TOKEN}"
        post_json(settings.SMS_GATEWAY_URL, body, headers)


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
