"""The client's address, the one place that reads it (login throttling, the personal-data access log).

Behind a reverse proxy (nginx) every connection comes from the proxy, so the client is named in a
header the proxy appends to (X-Forwarded-For by default). That header is written by whoever sends the
request, so it is believed only from a connection of a trusted proxy (settings.TRUSTED_PROXIES:
addresses or CIDRs), and read from the right: each trusted proxy appends the address it saw, so the
right-most address that is not a trusted proxy is the client; anything left of it may be forged.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def trusted_networks() -> tuple:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _parse(text: str):
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:1.2.3.4) is that IPv4 client.
    return address.ipv4_mapped or address if address.version == 6 else address


def is_trusted_proxy(address) -> bool:
    return address is not None and any(address in network for network in trusted_networks())


def _header_meta_key() -> str:
    return "HTTP_" + settings.TRUSTED_PROXY_HEADER.upper().replace("-", "_")


def from_trusted_proxy(request) -> bool:
    """Whether this connection comes from a trusted proxy (so its forwarding headers may be believed)."""
    return is_trusted_proxy(_parse(request.META.get("REMOTE_ADDR") or ""))


def client_ip(request) -> str | None:
    """The client's address as text, or None (no request, or a connection without an address)."""
    if request is None:
        return None
    cached = getattr(request, "_wangge_client_ip", False)
    if cached is not False:
        return cached
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    client = peer
    if is_trusted_proxy(peer):
        hops = [h for h in request.META.get(_header_meta_key(), "").split(",") if h.strip()]
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                break  # garbage: nothing left of it can be believed; keep the last good hop
            client = address
            if not is_trusted_proxy(address):
                break
    result = str(client) if client is not None else None
    request._wangge_client_ip = result
    return result
