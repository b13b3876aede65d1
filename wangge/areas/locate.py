"""Point → leaf area, with a shapely STRtree built once per process.

The index holds the leaf areas (areas with a boundary and no child with a boundary); a point
that falls in no leaf but inside a larger area (a gap between hand-drawn grids) goes to the
deepest area that holds it. The index is rebuilt when the boundary version in the database
moves on, checked at most every CHECK_SECONDS, and at once in the process that made the change.
"""

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely

from .models import LEVEL_DEPTH, Area, BoundaryVersion

CHECK_SECONDS = 5.0
# Bulk lookups first try a raster of square cells (about 100 m) that lie wholly inside one leaf;
# only points in cells crossed by a boundary take the exact polygon test.
RASTER_CELL_DEGREES = 0.001
RASTER_MIN_POINTS = 10_000
RASTER_ROWS_PER_BATCH = 20


class OutsideCity(ValueError):
    """The point lies outside every area with a boundary."""

    def __init__(self, lat, lng):
        super().__init__(f"坐标 ({lat}, {lng}) 不在本市范围内 (the point is outside the city)")
        self.lat, self.lng = lat, lng


@dataclass(frozen=True)
class LocatedArea:
    id: int
    code: str
    name: str
    level: str
    path: str


class AreaIndex:
    def __init__(self, rows: list[tuple], version: int):
        """rows: (id, code, name, level, path, parent_id, shapely geometry)."""
        self.version = version
        self.areas = [LocatedArea(r[0], r[1], r[2], r[3], r[4]) for r in rows]
        geoms = [r[6] for r in rows]
        parents_with_boundary = {r[5] for r in rows if r[5] is not None}
        leaf_positions = [i for i, r in enumerate(rows) if r[0] not in parents_with_boundary]
        self.leaf_positions = np.asarray(leaf_positions, dtype=np.int64)
        self.leaf_tree = shapely.STRtree([geoms[i] for i in leaf_positions]) if leaf_positions else None
        self.all_tree = shapely.STRtree(geoms) if geoms else None
        self.depths = np.asarray([LEVEL_DEPTH[a.level] for a in self.areas], dtype=np.int64)
        self._raster = None
        self._raster_lock = threading.Lock()

    def __len__(self):
        return len(self.areas)

    def raster(self):
        """(min_x, min_y, nx, ny, cells): cells[iy * nx + ix] is the leaf position, -1 if mixed."""
        with self._raster_lock:
            if self._raster is None:
                leaves = self.leaf_tree.geometries
                min_x, min_y, max_x, max_y = shapely.total_bounds(leaves)
                step = RASTER_CELL_DEGREES
                nx, ny = int(np.ceil((max_x - min_x) / step)), int(np.ceil((max_y - min_y) / step))
                cells = np.full(nx * ny, -1, dtype=np.int64)
                x0 = min_x + np.arange(nx) * step
                for first_row in range(0, ny, RASTER_ROWS_PER_BATCH):  # in batches: a few MB at a time
                    rows = np.arange(first_row, min(first_row + RASTER_ROWS_PER_BATCH, ny))
                    bx, by = np.meshgrid(x0, min_y + rows * step)
                    boxes = shapely.box(bx.ravel(), by.ravel(), bx.ravel() + step, by.ravel() + step)
                    box_idx, leaf_idx = self.leaf_tree.query(boxes, predicate="within")
                    cells[first_row * nx + box_idx] = self.leaf_positions[leaf_idx]
                self._raster = (min_x, min_y, nx, ny, cells)
            return self._raster

    def locate_positions(self, lngs: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """For each point, the position in self.areas of its leaf area, or -1 when outside."""
        lngs, lats = np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float)
        n = len(lngs)
        result = np.full(n, -1, dtype=np.int64)
        if self.leaf_tree is None or n == 0:
            return result
        if n < RASTER_MIN_POINTS:
            self._locate_exact(lngs, lats, result, np.arange(n))
            return result
        min_x, min_y, nx, ny, cells = self.raster()
        ix = np.floor((lngs - min_x) / RASTER_CELL_DEGREES).astype(np.int64)
        iy = np.floor((lats - min_y) / RASTER_CELL_DEGREES).astype(np.int64)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        result[inside] = cells[iy[inside] * nx + ix[inside]]
        self._locate_exact(lngs, lats, result, np.flatnonzero(result < 0))
        return result

    def _locate_exact(self, lngs, lats, result, todo):
        """Fill result[todo] by the polygon test (leaves first, then the deepest area holding it)."""
        if len(todo) == 0:
            return
        points = shapely.points(lngs[todo], lats[todo])
        point_idx, tree_idx = self.leaf_tree.query(points, predicate="intersects")
        result[todo[point_idx]] = self.leaf_positions[tree_idx]
        missing = np.flatnonzero(result[todo] < 0)
        if len(missing):
            # Rare: points in gaps between children. Take the deepest area holding each.
            p_idx, a_idx = self.all_tree.query(points[missing], predicate="intersects")
            order = np.lexsort((self.depths[a_idx], p_idx))
            for p, a in zip(p_idx[order], a_idx[order], strict=True):
                result[todo[missing[p]]] = a  # deepest last, so it wins

    def locate(self, lat: float, lng: float) -> LocatedArea:
        position = int(self.locate_positions(np.array([lng]), np.array([lat]))[0])
        if position < 0:
            raise OutsideCity(lat, lng)
        return self.areas[position]

    def locate_many(self, lats, lngs) -> list[LocatedArea | None]:
        """Vectorised lookup for imports: one LocatedArea (or None when outside) per point."""
        positions = self.locate_positions(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float))
        return [self.areas[p] if p >= 0 else None for p in positions]


def load_index() -> AreaIndex:
    version = current_boundary_version()
    rows = []
    for area in (
        Area.objects.filter(boundary__isnull=False)
        .only("id", "code", "name", "level", "path", "parent_id", "boundary")
        .iterator(chunk_size=2000)
    ):
        rows.append(
            (
                area.id,
                area.code,
                area.name,
                area.level,
                area.path,
                area.parent_id,
                shapely.geometry.shape(area.boundary),
            )
        )
    return AreaIndex(rows, version)


def current_boundary_version() -> int:
    row = BoundaryVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return row or 0


class _IndexHolder:
    def __init__(self):
        self._lock = threading.Lock()
        self._index: AreaIndex | None = None
        self._checked_at = 0.0

    def get(self) -> AreaIndex:
        now = time.monotonic()
        index = self._index
        if index is not None and now - self._checked_at < CHECK_SECONDS:
            return index
        with self._lock:
            if self._index is None or current_boundary_version() != self._index.version:
                self._index = load_index()
            self._checked_at = time.monotonic()
            return self._index

    def invalidate(self):
        with self._lock:
            self._index = None


_holder = _IndexHolder()
get_index = _holder.get
invalidate_index = _holder.invalidate


def locate(lat: float, lng: float) -> LocatedArea:
    """The leaf area holding a WGS-84 point; OutsideCity when none does."""
    return get_index().locate(lat, lng)


def locate_many(lats, lngs) -> list[LocatedArea | None]:
    return get_index().locate_many(lats, lngs)
