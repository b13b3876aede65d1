"""Base-map tiles from the environment: none (the default: boundaries and points on a plain
background, and no request to any tile server), a URL of one's own, or a preset by name.

Data is WGS-84 everywhere. 天地图 (Tianditu) draws in CGCS2000, within centimetres of WGS-84: no
shift. AMap (高德) draws in GCJ-02: the browser shifts points and boundaries for display only
(web/static/web/geo.js, same formula as areas/coords.py). Imported by the settings: plain Python."""

from django.core.exceptions import ImproperlyConfigured

TIANDITU = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s"

# name → url, crs, attribution, subdomains, overlay (names drawn over the base, Tianditu's vec has none)
PRESETS = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "wgs84", "© OpenStreetMap contributors", "", ""),
    "tianditu": (
        TIANDITU % ("vec", "vec", "{key}"),
        "wgs84",
        "© 天地图",
        "01234567",
        TIANDITU % ("cva", "cva", "{key}"),
    ),
    "tianditu_satellite": (
        TIANDITU % ("img", "img", "{key}"),
        "wgs84",
        "© 天地图",
        "01234567",
        TIANDITU % ("cia", "cia", "{key}"),
    ),
    "amap": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "gcj02",
        "© 高德地图",
        "1234",
        "",
    ),
}
CRS = ("wgs84", "gcj02")


def tiles_from_env(env) -> dict:
    """{url, crs, attribution, subdomains, overlay} from WANGGE_MAP_TILE_* / WANGGE_MAP_TILES; url ""
    means no tiles. A wrong preset name, a Tianditu preset without its key or an unknown CRS stops
    the start with a message naming the variable (never a silently blank map)."""
    url = env.get("WANGGE_MAP_TILE_URL", "")
    tiles = {
        "url": url,
        "crs": env.get("WANGGE_MAP_TILE_CRS", "wgs84") or "wgs84",
        "attribution": env.get("WANGGE_MAP_TILE_ATTRIBUTION", ""),
        "subdomains": env.get("WANGGE_MAP_TILE_SUBDOMAINS", "abc"),
        "overlay": env.get("WANGGE_MAP_TILE_OVERLAY_URL", ""),
    }
    preset = env.get("WANGGE_MAP_TILES", "")
    if preset and not url:
        if preset not in PRESETS:
            raise ImproperlyConfigured(f"WANGGE_MAP_TILES={preset!r}: choose one of {', '.join(PRESETS)}")
        url, crs, attribution, subdomains, overlay = PRESETS[preset]
        if preset.startswith("tianditu"):
            key = env.get("WANGGE_TIANDITU_KEY", "")
            if not key:
                raise ImproperlyConfigured(f"WANGGE_MAP_TILES={preset} needs WANGGE_TIANDITU_KEY (the 天地图 key)")
            url, overlay = url.replace("{key}", key), overlay.replace("{key}", key)
        tiles.update(url=url, crs=crs, subdomains=subdomains, overlay=overlay)
        tiles["attribution"] = tiles["attribution"] or attribution
    if tiles["crs"] not in CRS:
        raise ImproperlyConfigured(f"WANGGE_MAP_TILE_CRS={tiles['crs']!r}: choose wgs84 or gcj02")
    return tiles
