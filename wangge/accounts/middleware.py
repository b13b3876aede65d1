"""Sessions that still owe their second factor go nowhere else.

After django_otp's OTPMiddleware (request.user.is_verified()). A session is verified when the code
was given at login (or at enrolment). Otherwise:
- a user with a confirmed device whose session was never verified (it began before enrolment, or
  by a door that skipped the code) is logged out and sent to the login page;
- a user whose role needs the second factor (twofactor.requires_2fa) and has none is sent to
  enrolment, and may reach nothing else;
- anyone else passes. That outcome is kept in the session for RECHECK_SECONDS, so an ordinary user
  costs no query per page (a session in another browser from before an enrolment ends within that).
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import twofactor

STATE_KEY = "wangge_2fa"
RECHECK_SECONDS = 300
OPEN_PREFIXES = ("/static/", "/i18n/", "/healthz", "/login/", "/logout/")


def _state(request, user) -> str:
    """'verified', 'code' (has a device, session not verified), 'enrol' or 'ok'."""
    if user.is_verified():
        return "verified"
    known = request.session.get(STATE_KEY) or ""
    flag, _sep, checked_at = known.partition(":")
    if flag == f"ok{int(settings.REQUIRE_2FA)}" and time.time() - float(checked_at or 0) < RECHECK_SECONDS:
        return "ok"
    if twofactor.device_for(user) is not None:
        return "code"
    if twofactor.requires_2fa(user):
        return "enrol"
    request.session[STATE_KEY] = f"ok{int(settings.REQUIRE_2FA)}:{time.time():.0f}"
    return "ok"


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        path = request.path_info
        if user is None or not user.is_authenticated or path.startswith(OPEN_PREFIXES):
            return self.get_response(request)
        state = _state(request, user)
        if state in ("verified", "ok"):
            return self.get_response(request)
        api = path.startswith("/api/")
        if state == "code":
            logout(request)
            if api:
                return JsonResponse({"detail": _("Log in again with your verification code.")}, status=401)
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        enrol_url = reverse("two_factor")
        if path.startswith(enrol_url):
            return self.get_response(request)
        if api:
            return JsonResponse(
                {"detail": _("Your role needs two-step verification: set it up on the web first (My profile).")},
                status=403,
            )
        return redirect(f"{enrol_url}?{urlencode({'next': request.get_full_path()})}")
