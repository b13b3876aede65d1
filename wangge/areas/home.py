"""Where a map opens when it has nothing of its own to show: the city's own extent, from the root
area's bounding box and centroid (never a centre written into a template or script)."""

import time

from django.db import DatabaseError

from .models import Area

CHECK_SECONDS = 30.0
_cached = {"at": -CHECK_SECONDS, "value": None}


def city_home() -> dict | None:
    """{"bbox": [[south, west], [north, east]], "centre": [lat, lng]} of the city (the root areas
    together), or None before any boundary is loaded. Kept per process for CHECK_SECONDS."""
    now = time.monotonic()
    if now - _cached["at"] < CHECK_SECONDS:
        return _cached["value"]
    try:
        roots = list(
            Area.objects.filter(parent__isnull=True, min_lat__isnull=False).values_list(
                "min_lat", "min_lng", "max_lat", "max_lng", "centroid_lat", "centroid_lng"
            )
        )
    except DatabaseError:  # an error page while the database is away still renders
        return None
    value = None
    if roots:
        south, west = min(r[0] for r in roots), min(r[1] for r in roots)
        north, east = max(r[2] for r in roots), max(r[3] for r in roots)
        first = roots[0]
        centre = [first[4], first[5]] if first[4] is not None else [(south + north) / 2, (west + east) / 2]
        value = {"bbox": [[south, west], [north, east]], "centre": centre}
    _cached.update(at=now, value=value)
    return value


def forget():
    """Tests and boundary imports: read the city's extent again on the next call."""
    _cached["at"] = -CHECK_SECONDS
