"""The Content-Security-Policy (Django's own, `SECURE_CSP`): scripts only from this site's files, so
a script planted in any text a user typed cannot run in another user's browser. Imported by the
settings, so plain Python only."""

from urllib.parse import urlsplit

SELF, NONE, UNSAFE_INLINE = "'self'", "'none'", "'unsafe-inline'"


def tile_source(url):
    """The origin of a map tile URL template as a CSP source: "https://webrd0{s}.is.autonavi.com/…"
    → "https://*.is.autonavi.com"; "" for no tiles or tiles on this site."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return ""
    labels = parts.netloc.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    host = "*." + ".".join(labels[templated[-1] + 1 :]) if templated else parts.netloc
    return f"{parts.scheme}://{host}"


def policy(tile_url="", overlay_url=""):
    """script-src is this site only: no inline script, no event-handler attributes, no eval (htmx is
    configured without eval in the base template). style-src keeps 'unsafe-inline' for the
    templates' style attributes and the styles Leaflet and ECharts set; styles cannot run script."""
    tiles = [t for t in dict.fromkeys([tile_source(tile_url), tile_source(overlay_url)]) if t]
    return {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"] + tiles,
        "connect-src": [SELF],
        "font-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
