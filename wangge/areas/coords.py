"""WGS-84 <-> GCJ-02 conversion.

Phones report WGS-84; Chinese web maps (AMap, Tencent) draw in GCJ-02, the offset datum of
GB 2017 survey rules. We store WGS-84 and convert at the edges. The forward transform is the
widely published one; the inverse has no closed form and is found by fixed-point iteration
(error < 1e-7 degrees, about 1 cm). Vectorised with numpy: scalars and arrays both work.
"""

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis, used by GCJ-02
_EE = 0.00669342162296594323  # its eccentricity squared


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def in_china(lng, lat):
    """GCJ-02 applies only inside mainland China's rough bounding box; elsewhere it is WGS-84."""
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    return (lng > 73.66) & (lng < 135.05) & (lat > 3.86) & (lat < 53.55)


def _offset(lng, lat):
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlng, dlat


def wgs84_to_gcj02(lng, lat):
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    dlng, dlat = _offset(lng, lat)
    inside = in_china(lng, lat)
    out_lng, out_lat = np.where(inside, lng + dlng, lng), np.where(inside, lat + dlat, lat)
    return (float(out_lng), float(out_lat)) if out_lng.ndim == 0 else (out_lng, out_lat)


def gcj02_to_wgs84(lng, lat, iterations: int = 6):
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    wlng, wlat = lng.copy(), lat.copy()
    for _ in range(iterations):
        glng, glat = wgs84_to_gcj02(wlng, wlat)
        wlng, wlat = wlng - (np.asarray(glng) - lng), wlat - (np.asarray(glat) - lat)
    return (float(wlng), float(wlat)) if wlng.ndim == 0 else (wlng, wlat)


def distance_m(lng1, lat1, lng2, lat2):
    """Great-circle distance in metres (haversine)."""
    lng1, lat1, lng2, lat2 = map(np.radians, (lng1, lat1, lng2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return 6371008.8 * 2 * np.arcsin(np.sqrt(a))
