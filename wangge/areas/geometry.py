"""Boundary geometry: parsing and checking GeoJSON, and cutting an area into grids."""

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from .coords import gcj02_to_wgs84


class GeometryError(ValueError):
    pass


def parse_boundary(geometry: dict):
    """A GeoJSON Polygon/MultiPolygon as a shapely geometry, or GeometryError saying why not."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise GeometryError("不是 GeoJSON 几何对象 (not a GeoJSON geometry)")
    if geometry["type"] not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"几何类型为 {geometry['type']}，须为 Polygon 或 MultiPolygon")
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"坐标格式错误: {exc}") from exc
    if geom.is_empty:
        raise GeometryError("几何为空 (empty geometry)")
    if not geom.is_valid:
        raise GeometryError(f"几何无效: {explain_validity(geom)}")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError("坐标超出经纬度范围 (coordinates out of range)")
    return geom


def geometry_from_gcj02(geometry: dict) -> dict:
    """The same GeoJSON geometry with every vertex moved from GCJ-02 to WGS-84."""

    def convert(coords):
        arr = np.asarray(coords, dtype=float)
        lng, lat = gcj02_to_wgs84(arr[:, 0], arr[:, 1])
        return np.column_stack([lng, lat]).round(7).tolist()

    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [convert(ring) for ring in geometry["coordinates"]]}
    if geometry["type"] == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [[convert(ring) for ring in poly] for poly in geometry["coordinates"]],
        }
    raise GeometryError(f"几何类型为 {geometry['type']}，须为 Polygon 或 MultiPolygon")


def to_geojson(geom) -> dict:
    """shapely → GeoJSON dict with coordinates rounded to 1e-7° (about 1 cm)."""
    return _rounded(mapping(geom))


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 7)
    if isinstance(obj, (list, tuple)):
        return [_rounded(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


def is_within(child, parent, tolerance: float = 0.001) -> bool:
    """Whether child lies inside parent, allowing a sliver (share of child's area) for rounding."""
    if child.area == 0:
        return parent.covers(child)
    outside = child.difference(parent).area
    return outside <= tolerance * child.area


def random_points_in(polygon, count: int, rng: np.random.Generator) -> np.ndarray:
    """count uniformly random points inside polygon (rejection sampling on its bbox)."""
    minx, miny, maxx, maxy = polygon.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        batch = np.column_stack([rng.uniform(minx, maxx, count * 4), rng.uniform(miny, maxy, count * 4)])
        inside = shapely.contains_xy(polygon, batch[:, 0], batch[:, 1])
        found.append(batch[inside])
        total += int(inside.sum())
    return np.concatenate(found)[:count]


def spread_centers(polygon, count: int, seed: int, iterations: int = 12) -> np.ndarray:
    """count well-spread points in polygon: k-means (Lloyd) over random samples, so cells are even."""
    rng = np.random.default_rng(seed)
    samples = random_points_in(polygon, max(count * 40, 200), rng)
    centers = samples[rng.choice(len(samples), size=count, replace=False)]
    for _ in range(iterations):
        nearest = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for k in range(count):
            members = samples[nearest == k]
            if len(members):
                centers[k] = members.mean(axis=0)
    return centers


def voronoi_cells(polygon, centers: np.ndarray) -> list:
    """Cut polygon into one cell per center (Voronoi, clipped): cells cover it and never overlap.

    Returns the cells in the order of centers. A center whose cell misses the polygon gets an
    empty geometry; callers decide what to do with it.
    """
    points = shapely.points(centers)
    regions = shapely.voronoi_polygons(
        shapely.MultiPoint(list(points)), extend_to=polygon.envelope.buffer(polygon.length)
    )
    cells = list(regions.geoms)
    # voronoi_polygons does not keep input order: match each region to the center inside it.
    tree = shapely.STRtree(cells)
    point_idx, cell_idx = tree.query(points, predicate="intersects")
    ordered = [None] * len(centers)
    for p, c in zip(point_idx, cell_idx, strict=True):
        if ordered[p] is None:
            ordered[p] = cells[c]
    result = []
    for cell in ordered:
        clipped = shapely.intersection(cell, polygon) if cell is not None else shapely.Polygon()
        result.append(_polygonal(clipped))
    return result


def _polygonal(geom):
    """Only the polygon parts of a clipping result (drops stray lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def snap_inside(polygon, point: tuple[float, float], margin: float = 0.002) -> tuple[float, float]:
    """The point itself when inside polygon, else the nearest point a little way inside it."""
    p = shapely.Point(point)
    if polygon.contains(p):
        return point
    inner = polygon.buffer(-margin)
    target = inner if not inner.is_empty else polygon
    nearest = shapely.ops.nearest_points(target, p)[0]
    return (nearest.x, nearest.y)


def cut_into_cells(polygon, count: int, seed: int) -> list:
    """Cut polygon into count cells of similar size, deterministic for a seed."""
    if count < 1:
        raise GeometryError("网格数量须至少为 1 (count must be at least 1)")
    if count == 1:
        return [polygon]
    return voronoi_cells(polygon, spread_centers(polygon, count, seed))
