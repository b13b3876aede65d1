"""Where a "next" (or any redirect) parameter may send the user: only back into this site."""

from urllib.parse import urlsplit

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, value: str | None, default: str = "home") -> str:
    """value if it is a URL of this site (a path, or this host with an allowed scheme), else the
    default (a URL name or path). Refuses https://evil, //evil.host, /\\evil and the like."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return resolve_url(default)


def safe_referer(request) -> str | None:
    """The page the user came from (the Referer), if it is a page of this site and not the address
    that just failed to load; else None. A form sent to its own page (a POST) may go back to it.
    Never raises (it serves the error pages, a bad Host included)."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        if not referer or not url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return None
        parts = urlsplit(referer)
        same = parts.path + (f"?{parts.query}" if parts.query else "") == request.get_full_path()
        if same and request.method in ("GET", "HEAD"):
            return None  # the address that failed: no way back there
    except Exception:  # DisallowedHost, a malformed header
        return None
    return referer
