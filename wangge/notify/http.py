"""Outgoing HTTP for the SMS gateway and webhooks: urllib, a timeout, no redirects, 2xx or an error."""

import urllib.error
import urllib.parse
import urllib.request

TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """The message did not get through (it will be retried)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error here: urllib would turn the POST into a bodiless GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes, headers: dict, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST a JSON body; the status code if 2xx, else DeliveryError."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    for name, value in headers.items():
        request.add_header(name, value)
    host = urllib.parse.urlsplit(url).hostname or "?"  # errors name the host only: URLs may hold credentials
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {host}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"cannot reach {host}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {host}")
    return status


class PermanentDeliveryError(DeliveryError):
    """The message can never get through (no number, endpoint switched off): no retries."""
