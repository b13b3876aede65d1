"""Packing GPS points for a day, and the figures derived from them (distance, time on duty, in grid).

A point is 14 bytes: seconds since the local midnight (int32), latitude and longitude in millionths
of a degree (int32 each, about 0.1 m) and the reported accuracy in metres (uint16; NO_ACCURACY when
the phone gave none). Points are kept sorted by time, one per second.
"""

from dataclasses import dataclass

import numpy as np
import shapely

POINT = np.dtype([("t", "<i4"), ("lat", "<i4"), ("lng", "<i4"), ("acc", "<u2")])
NO_ACCURACY = 65535
SCALE = 1_000_000
EARTH_RADIUS_M = 6_371_008.8


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(bytes(blob or b""), dtype=POINT)


def pack(points: np.ndarray) -> bytes:
    return points.astype(POINT).tobytes()


def make_points(rows: list[tuple[int, float, float, float | None]]) -> np.ndarray:
    """(seconds since midnight, lat, lng, accuracy or None) → packed-ready array."""
    points = np.empty(len(rows), dtype=POINT)
    for i, (t, lat, lng, acc) in enumerate(rows):
        accuracy = NO_ACCURACY if acc is None else min(round(acc), NO_ACCURACY - 1)
        points[i] = (t, round(lat * SCALE), round(lng * SCALE), accuracy)
    return points


def merge(existing: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, int]:
    """Existing and new points, sorted, one per second (a re-sent batch changes nothing).

    Returns the merged points and how many of the new ones were already there.
    """
    combined = np.concatenate([existing, new])
    # np.unique keeps the first occurrence: points already stored win over re-sent ones.
    _, first = np.unique(combined["t"], return_index=True)
    merged = combined[np.sort(first)]
    merged = merged[np.argsort(merged["t"], kind="stable")]
    return merged, len(existing) + len(new) - len(merged)


@dataclass(frozen=True)
class Figures:
    point_count: int
    flagged_count: int
    distance_m: float
    seconds_on_duty: int
    seconds_in_grid: int


def haversine_m(lat1, lng1, lat2, lng2):
    lat1, lng1, lat2, lng2 = map(np.radians, (lat1, lng1, lat2, lng2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def figures(points: np.ndarray, grid, *, max_accuracy_m: float, max_gap_s: int, max_speed_mps: float) -> Figures:
    """Figures of a day's points.

    - Points with no accuracy or worse than max_accuracy_m are flagged and left out of distance and
      time in grid (never guessed), but a gap between any two points still counts as time on duty.
    - A step is counted only if it took at most max_gap_s (the phone was sending) and, for distance,
      if its speed is believable (a jump of the GPS fix is not a walk).
    - grid: the shapely geometry of the worker's assigned areas, or None.
    """
    n = len(points)
    if n == 0:
        return Figures(0, 0, 0.0, 0, 0)
    t = points["t"].astype(np.int64)
    lat = points["lat"] / SCALE
    lng = points["lng"] / SCALE
    good = points["acc"] <= max_accuracy_m
    gaps = np.diff(t)
    sending = gaps <= max_gap_s
    seconds_on_duty = int(gaps[sending].sum())

    good_idx = np.flatnonzero(good)
    distance = 0.0
    seconds_in_grid = 0
    if len(good_idx) >= 2:
        a, b = good_idx[:-1], good_idx[1:]
        step_s = t[b] - t[a]
        step_m = haversine_m(lat[a], lng[a], lat[b], lng[b])
        counted = step_s <= max_gap_s
        believable = step_m <= max_speed_mps * np.maximum(step_s, 1)
        distance = float(step_m[counted & believable].sum())
        if grid is not None:
            inside = shapely.contains_xy(grid, lng, lat)
            both_inside = inside[a] & inside[b]
            seconds_in_grid = int(step_s[counted & both_inside].sum())
    return Figures(n, int(n - good.sum()), round(distance, 1), seconds_on_duty, seconds_in_grid)


def buildings_passed(points: np.ndarray, buildings, *, max_accuracy_m: float, within_m: float) -> int:
    """How many of the buildings ((lat, lng) pairs) lie within within_m of a good fix of the day."""
    good = points[points["acc"] <= max_accuracy_m]
    buildings = np.asarray(buildings, dtype=float).reshape(-1, 2)
    if not len(good) or not len(buildings):
        return 0
    lat_b, lng_b = buildings[:, 0], buildings[:, 1]
    # Degrees are not metres: stretch longitude by cos(latitude) so one radius fits both axes.
    stretch = float(np.cos(np.radians(lat_b.mean())))
    track = shapely.points(good["lng"] / SCALE * stretch, good["lat"] / SCALE)
    tree = shapely.STRtree(track)
    radius = within_m / 111_320
    hits = tree.query(shapely.points(lng_b * stretch, lat_b), predicate="dwithin", distance=radius)
    return int(len(np.unique(hits[0])))
