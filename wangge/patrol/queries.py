"""Who may see whose tracks, and the geometry a worker is assigned to."""

import threading
from functools import reduce
from operator import or_

import numpy as np
import shapely
from django.db import transaction
from django.db.models import Count, Max, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.areas.locate import get_index
from wangge.areas.models import Area, under
from wangge.core import refcache
from wangge.registry.models import Building

SUPERVISOR_ROLES = {
    Role.VILLAGE_DISPATCHER,
    Role.TOWN_DISPATCHER,
    Role.CITY_DISPATCHER,
    Role.LEADER,
    Role.ADMIN,
}


def visible_workers(user):
    """Field workers whose tracks the user may see: those working inside the areas the user
    supervises, and always the user themself."""
    workers = User.objects.filter(memberships__role=Role.GRID_MANAGER, is_active=True)
    if user.is_superuser:
        return workers.distinct()
    paths = [m.area.path for m in user.membership_list if m.role in SUPERVISOR_ROLES and m.area_id]
    condition = Q(pk=user.pk)
    if paths:
        condition |= reduce(or_, (under("memberships__area__path", p) for p in paths))
    return workers.filter(condition).distinct()


def grid_areas(worker) -> list[tuple[int, str]]:
    """(area id, path) of every area the worker is a grid manager of. The memberships are the user's
    list (the API token cache prefetched it; else one query per request), the paths come from the
    locate index; only an area without a boundary (not in the index) is read."""
    memberships = sorted(worker.membership_list, key=lambda m: m.pk)
    ids = [m.area_id for m in memberships if m.role == Role.GRID_MANAGER and m.area_id]
    paths = _grid_cache.paths(ids)
    if missing := [a for a in ids if a not in paths]:
        paths.update(Area.objects.filter(pk__in=missing).values_list("pk", "path"))
    return [(a, paths[a]) for a in ids if a in paths]


class _GridCache:
    """Assigned grids as prepared shapes, built from the point → area index's own geometries (so no
    boundary is read or parsed per batch of positions), and dropped whenever that index is rebuilt."""

    def __init__(self):
        self.lock = threading.Lock()
        self.index = None
        self.positions: dict[int, int] = {}
        self.grids: dict[tuple, shapely.Geometry | None] = {}

    def _sync(self):
        """Call with the lock held: drop what was built from an older index."""
        index = get_index()
        if self.index is not index:
            self.index, self.grids = index, {}
            self.positions = {area.id: i for i, area in enumerate(index.areas)}
        return index

    def paths(self, area_ids) -> dict[int, str]:
        with self.lock:
            index = self._sync()
            return {a: index.areas[self.positions[a]].path for a in area_ids if a in self.positions}

    def get(self, area_ids) -> shapely.Geometry | None:
        key = tuple(sorted(set(area_ids)))
        with self.lock:
            index = self._sync()
            if key not in self.grids:
                geometries = index.all_tree.geometries if index.all_tree is not None else []
                shapes = [geometries[self.positions[a]] for a in key if a in self.positions]
                grid = shapely.union_all(shapes) if shapes else None
                if grid is not None:
                    shapely.prepare(grid)
                self.grids[key] = grid
            return self.grids[key]


_grid_cache = _GridCache()


def assigned_grid(worker, area_ids=None) -> shapely.Geometry | None:
    """The union of the areas the worker is a grid manager of (None when none has a boundary)."""
    if area_ids is None:
        area_ids = [area_id for area_id, _path in grid_areas(worker)]
    return _grid_cache.get(area_ids)


class BuildingPoints:
    """Every registered building's (lat, lng), sorted by latitude, for the box around a day's track."""

    def __init__(self, rows):
        points = np.asarray(rows, dtype=float).reshape(-1, 2)
        points = points[np.argsort(points[:, 0], kind="stable")]
        self.lat, self.lng = points[:, 0], points[:, 1]

    def in_box(self, south, west, north, east) -> tuple[np.ndarray, np.ndarray]:
        """(lats, lngs) of the buildings inside the box, edges included."""
        start, stop = np.searchsorted(self.lat, south, "left"), np.searchsorted(self.lat, north, "right")
        lat, lng = self.lat[start:stop], self.lng[start:stop]
        inside = (lng >= west) & (lng <= east)
        return lat[inside], lng[inside]


def _building_version():
    """Moves on with any building added, removed or changed (also by bulk imports, which send no
    signal)."""
    figures = Building.objects.aggregate(n=Count("pk"), last=Max("pk"), changed=Max("updated_at"))
    return figures["n"], figures["last"], figures["changed"]


# Loaded once per process; other processes see a change within refcache.CHECK_SECONDS.
_buildings = refcache.RefCache(
    "patrol.buildings", lambda: BuildingPoints(list(Building.objects.values_list("lat", "lng"))),
    version=_building_version,
)  # fmt: skip


def building_points() -> BuildingPoints:
    return _buildings.get()


def _buildings_changed(sender, **kwargs):
    """In this process at once, and again after the commit (a reload in between saw the old rows)."""
    _buildings.invalidate()
    transaction.on_commit(_buildings.invalidate)


post_save.connect(_buildings_changed, sender=Building, dispatch_uid="patrol-building-points")
post_delete.connect(_buildings_changed, sender=Building, dispatch_uid="patrol-building-points-del")


def worker_areas(worker) -> list:
    return [m.area for m in worker.membership_list if m.role == Role.GRID_MANAGER and m.area_id]


def sees_tracks(user) -> bool:
    """Field workers (their own track) and their supervisors."""
    return user.is_superuser or user.has_role(Role.GRID_MANAGER, *SUPERVISOR_ROLES)


def tasks_for(user, *, include_done: bool = False):
    """Inspection tasks in the user's areas (a grid manager's grid, a dispatcher's village…),
    the highest risk class (3, 三级（高）) first, then by due date."""
    from .models import InspectionTask, TaskStatus

    tasks = InspectionTask.objects.filter(scope_for(user).area_q("area_path", include_department_areas=False))
    if not include_done:
        tasks = tasks.filter(status=TaskStatus.OPEN)
    return tasks.select_related("building", "rental__building", "place").order_by("-risk_class", "due_date", "pk")


def checklist_names() -> dict[str, str]:
    """Checklist code → the current version's name: tasks and rules name a checklist by its code."""
    from .models import Checklist

    return dict(Checklist.objects.filter(is_current=True).values_list("code", "name"))


def filter_tasks(tasks, due="", today=None):
    """The task list's ?due=today: open tasks due today or before (what today's round should do)."""
    if due == "today":
        tasks = tasks.filter(due_date__lte=today or timezone.localdate())
    return tasks


def inspections_for(user):
    from .models import Inspection

    return Inspection.objects.filter(scope_for(user).area_q("area_path", include_department_areas=False))
