"""What the public report page's map may read without an account: the official divisions and grids
(names and simplified boundaries, by zoom level and view), and a place search over the standard
addresses and public buildings of the registers (address text and point only, no personal data,
within the city, rate-limited per client address)."""

from functools import lru_cache

import shapely
from django.db.models import Q
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wangge.areas.geometry import to_geojson
from wangge.areas.models import Area, Level
from wangge.core import ratelimit
from wangge.core.clientip import client_ip
from wangge.registry.models import Building, StandardAddress
from wangge.registry.validators import search_text

# Degrees a boundary may move when simplified for display (about 100 m, 50 m, 20 m, 5 m).
SIMPLIFY = {Level.CITY: 0.001, Level.TOWN: 0.0005, Level.VILLAGE: 0.0002, Level.GRID: 0.00005}
MAX_FEATURES = {Level.TOWN: 200, Level.VILLAGE: 400, Level.GRID: 600}
# Buildings whose names may name their owner or residents: found by their address, never by name.
PRIVATE_USES = ("residential", "rental", "self_built", "dormitory")
RESULTS = 10


@lru_cache(maxsize=8192)
def simplified(pk, updated_at, level):
    """An area's boundary simplified for its level; cached per process until the area changes."""
    boundary = Area.objects.filter(pk=pk).values_list("boundary", flat=True).first()
    geom = shapely.geometry.shape(boundary).simplify(SIMPLIFY.get(level, 0.0001), preserve_topology=True)
    return to_geojson(geom)


def _bbox(text):
    """ "west,south,east,north" → floats, or None."""
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except (ValueError, AttributeError):
        return None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return west, south, east, north


def _error(field, message, status=400):
    return JsonResponse({"detail": message, "field": field}, status=status)


@require_GET
def areas_geojson(request):
    """Towns, villages or grids (?level=) in the view (?bbox=west,south,east,north) with their names
    and label points, boundaries simplified for the level: the map shows more as the user zooms in."""
    level = request.GET.get("level", "")
    if level not in MAX_FEATURES:
        return _error("level", _("Choose the level: town, village or grid."))
    bbox = _bbox(request.GET.get("bbox", ""))
    if bbox is None:
        return _error("bbox", _("The view must be west,south,east,north in degrees."))
    west, south, east, north = bbox
    rows = Area.objects.filter(
        level=level,
        boundary__isnull=False,
        max_lng__gte=west,
        min_lng__lte=east,
        max_lat__gte=south,
        min_lat__lte=north,
    ).values_list("pk", "code", "name", "updated_at", "centroid_lat", "centroid_lng")
    rows = list(rows.order_by("code")[: MAX_FEATURES[level] + 1])
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name, "level": level, "label": [lat, lng]},
            "geometry": simplified(pk, updated_at, level),
        }
        for pk, code, name, updated_at, lat, lng in rows[: MAX_FEATURES[level]]
    ]
    answer = JsonResponse({"type": "FeatureCollection", "features": features, "more": len(rows) > len(features)})
    answer["Cache-Control"] = "public, max-age=300"
    return answer


def _over_limit(request) -> int | None:
    """At most PUBLIC_PLACE_SEARCH_PER_MINUTE searches a minute per client address (core.ratelimit):
    None, or the seconds to wait."""
    return ratelimit.hit("public_place_search", client_ip(request) or "unknown")


def _in_city():
    paths = [p for p in Area.objects.filter(parent__isnull=True).values_list("path", flat=True) if p]
    return Q(*[Q(area_path__startswith=p) for p in paths], _connector=Q.OR) if paths else Q(pk__in=[])


@require_GET
def place_search(request):
    """?q=part of an address or a public building's name → [{text, lat, lng}] (WGS-84)."""
    if (wait := _over_limit(request)) is not None:
        answer = _error("q", _("Too many searches; try again in a minute."), status=429)
        answer["Retry-After"] = str(wait)
        return answer
    q = request.GET.get("q", "").strip()
    needle = search_text(q)
    if len(needle) < 2 or len(q) > 60:
        return _error("q", _("Type at least two characters of the address or building."))
    city = _in_city()
    addresses = (
        StandardAddress.objects.filter(city, search_text__contains=needle)
        .order_by("full_text")
        .values_list("full_text", "lat", "lng")[:RESULTS]
    )
    buildings = (
        Building.objects.filter(city, name__icontains=q)
        .exclude(use__code__in=PRIVATE_USES)
        .order_by("name")
        .values_list("name", "address__full_text", "lat", "lng")[: RESULTS // 2]
    )
    results = [{"text": f"{name} · {address}", "lat": lat, "lng": lng} for name, address, lat, lng in buildings]
    results += [{"text": text, "lat": lat, "lng": lng} for text, lat, lng in addresses]
    return JsonResponse({"results": results[:RESULTS]})
