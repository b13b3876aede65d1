"""Forwarding headers are believed only from a trusted proxy (settings.TRUSTED_PROXIES)."""

from .clientip import from_trusted_proxy

# Headers that only a proxy may set: from any other connection they are someone's forgery.
PROXY_ONLY_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")


class TrustedProxyMiddleware:
    """First in the chain: drops the proxy's headers from connections that are not the proxy's, so
    SECURE_PROXY_SSL_HEADER (https) cannot be claimed by a client that reached the server directly.
    (The client's address itself is read by wangge.core.clientip.client_ip.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not from_trusted_proxy(request):
            for key in PROXY_ONLY_HEADERS:
                request.META.pop(key, None)
        return self.get_response(request)
