"""Where a "next" (or any redirect) parameter may send the user: only back into this site."""

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
