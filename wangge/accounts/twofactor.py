"""The second factor (TOTP through django-otp): who needs it, a user's device, codes, the QR code.

Required for administrators and command-center staff (dispatchers, leaders) when
settings.REQUIRE_2FA is on (WANGGE_REQUIRE_2FA, on with WANGGE_PRODUCTION); optional for everyone
else. The writes (enrol, confirm, remove, unlock) are in actions.py.
"""

import io
from base64 import b32encode

from django.conf import settings
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role

# Roles whose accounts run the city: they need the second factor and get the shorter staff session.
COMMAND_ROLES = {
    Role.ADMIN,
    Role.VILLAGE_DISPATCHER,
    Role.TOWN_DISPATCHER,
    Role.CITY_DISPATCHER,
    Role.LEADER,
}
DEVICE_NAME = "TOTP"


def is_command_staff(user) -> bool:
    return bool(user.is_superuser or user.is_staff or user.has_role(*COMMAND_ROLES))


def requires_2fa(user) -> bool:
    return settings.REQUIRE_2FA and is_command_staff(user)


def device_for(user, *, confirmed=True) -> TOTPDevice | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def verify(user, code: str) -> TOTPDevice | None:
    """The user's confirmed device if the code is right (django-otp: each code once, wrong codes
    slow the device down exponentially), else None."""
    device = device_for(user)
    code = "".join((code or "").split())
    if device is None or not code.isdigit():
        return None
    return verify_token(user, device.persistent_id, code)


def code_wait_seconds(device: TOTPDevice | None) -> int:
    """Seconds before the device accepts another code after wrong ones (0: now)."""
    if device is None:
        return 0
    allowed, data = device.verify_is_allowed()
    if allowed or not data or not data.get("locked_until"):
        return 0
    from django.utils import timezone

    return max(1, int((data["locked_until"] - timezone.now()).total_seconds() + 0.999))


def secret_text(device: TOTPDevice) -> str:
    """The key as base32 in groups of four, for typing into an app without a camera."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, border=2)
    return out.getvalue()


def shorten_staff_session(sender, request, user, **kwargs):
    """user_logged_in: staff sessions last settings.STAFF_SESSION_SECONDS (0: Django's default)."""
    if settings.STAFF_SESSION_SECONDS and request is not None and is_command_staff(user):
        request.session.set_expiry(settings.STAFF_SESSION_SECONDS)
