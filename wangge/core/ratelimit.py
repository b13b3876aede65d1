"""Per-client rate limits and the CAPTCHA hook of the public entries (report page, public API,
Open311, photo uploads): one limiter, keyed by the client's address (core.clientip).

A fixed window per entry: at most N requests per client and window (settings.RATE_LIMITS, e.g.
{"public_report": (10, 600)}). Counted in Django's cache: per process with the default local-memory
cache, shared by every process when CACHES points at Redis or memcached.

Over the limit: RateLimited, answered 429 with Retry-After (the API in JSON, pages with a page in the
site's language). check() raises it; page_limit() gives the page for views that answer HTML.

CAPTCHA: none by default. settings.CAPTCHA_VERIFIER names a callable(request, token) -> bool;
when set, the public writes pass the token from the form field or header (captcha_token /
X-Captcha-Token) to it and refuse a bad one as a field error (docs/workorders.md "Anti-abuse").
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .clientip import client_ip  # noqa: F401  (re-exported for callers)

DEFAULT_LIMITS = {
    "public_report": (10, 600),  # the public report page's submissions
    "public_api": (20, 600),  # anonymous reports through /api/v1/public/cases
    "photo_upload": (30, 600),  # photos uploaded without an account
    "workorder": (600, 60),  # an external hotline platform's pushes
    "public_track": (60, 600),  # looking a report up by its tracking number (page and API): no guessing
    "public_evaluate": (10, 600),  # ratings by tracking number
    "portal_report": (20, 3600),  # reports of one citizen or landlord account (keyed by the account)
}
CAPTCHA_FIELD = "captcha_token"
CAPTCHA_HEADER = "X-Captcha-Token"


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__("rate limited")
        self.retry_after = max(int(retry_after), 1)

    @property
    def message(self) -> str:
        return _("Too many requests from your address; try again in %(s)s seconds.") % {"s": self.retry_after}


def limit_for(name: str) -> tuple[int, int]:
    # The report map's place search kept its own setting (searches per minute).
    limits = {**DEFAULT_LIMITS, "public_place_search": (settings.PUBLIC_PLACE_SEARCH_PER_MINUTE, 60)}
    limits.update(getattr(settings, "RATE_LIMITS", {}))
    count, seconds = limits[name]
    return int(count), int(seconds)


def hit(name: str, key: str) -> int | None:
    """Count one request of `key` at entry `name`: None while within the limit, else the seconds to wait."""
    count, seconds = limit_for(name)
    return count_in_window(f"{name}:{key}", count, seconds)


def count_in_window(bucket: str, count: int, seconds: int) -> int | None:
    """Count one request in `bucket`'s current window of `seconds`: None while at most `count`
    (0: not limited), else the seconds until the next window. Also for limits kept elsewhere
    (an Open311 key's own rate)."""
    if count <= 0:
        return None
    now = time.time()
    window = int(now // seconds)
    cache_key = f"ratelimit:{bucket}:{window}"
    if cache.add(cache_key, 1, seconds + 5):
        used = 1
    else:
        try:
            used = cache.incr(cache_key)
        except ValueError:  # expired between add and incr: a fresh window
            cache.add(cache_key, 1, seconds + 5)
            used = 1
    if used <= count:
        return None
    return math.ceil((window + 1) * seconds - now)


def page_limit_key(request, name: str, key: str):
    """page_limit() for a limit keyed by something else than the address (e.g. the account)."""
    try:
        check(request, name, key)
    except RateLimited as exc:
        return page_response(request, exc)
    return None


def check(request, name: str, key: str = "") -> None:
    """Count this request; RateLimited when the client (its address, or `key`) is over the entry's limit."""
    wait = hit(name, key or client_ip(request) or "unknown")
    if wait is not None:
        raise RateLimited(wait)


def page_response(request, exc: RateLimited):
    context = {
        "status": 429,
        "title": _("Too many requests"),
        "message": exc.message,
        "advice": _("This limit keeps the public entries open for everyone."),
    }
    response = render(request, "web/errors/error.html", context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def page_limit(request, name: str):
    """For page views: the 429 page when over the limit, else None."""
    try:
        check(request, name)
    except RateLimited as exc:
        return page_response(request, exc)
    return None


def json_response(exc: RateLimited):
    from django.http import JsonResponse

    response = JsonResponse({"detail": exc.message, "retry_after": exc.retry_after}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


# ---------------------------------------------------------------------------------------------- CAPTCHA


def captcha_verifier():
    path = getattr(settings, "CAPTCHA_VERIFIER", "")
    return import_string(path) if path else None


def captcha_enabled() -> bool:
    return bool(getattr(settings, "CAPTCHA_VERIFIER", ""))


def check_captcha(request, token: str | None = None, field: str = CAPTCHA_FIELD) -> None:
    """ValidationError naming the field unless the configured hook accepts the token (no hook: pass)."""
    verifier = captcha_verifier()
    if verifier is None:
        return
    if token is None:
        token = request.POST.get(CAPTCHA_FIELD) or request.headers.get(CAPTCHA_HEADER, "")
    if not token or not verifier(request, token):
        raise ValidationError({field: _("The human check failed; please try again.")})
