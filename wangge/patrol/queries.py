"""Who may see whose tracks, and the geometry a worker is assigned to."""

import threading
from functools import reduce
from operator import or_

import shapely
from django.db.models import Q

from wangge.accounts.models import Membership, Role, User
from wangge.accounts.scope import scope_for
from wangge.areas.locate import get_index

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
    paths = [
        m.area.path
        for m in Membership.objects.filter(user=user, role__in=SUPERVISOR_ROLES, area__isnull=False).select_related(
            "area"
        )
    ]
    condition = Q(pk=user.pk)
    if paths:
        condition |= reduce(or_, (Q(memberships__area__path__startswith=p) for p in paths))
    return workers.filter(condition).distinct()


def grid_areas(worker) -> list[tuple[int, str]]:
    """(area id, path) of every area the worker is a grid manager of, in one query."""
    return list(
        Membership.objects.filter(user=worker, role=Role.GRID_MANAGER, area__isnull=False)
        .order_by("pk")
        .values_list("area_id", "area__path")
    )


class _GridCache:
    """Assigned grids as prepared shapes, built from the point → area index's own geometries (so no
    boundary is read or parsed per batch of positions), and dropped whenever that index is rebuilt."""

    def __init__(self):
        self.lock = threading.Lock()
        self.index = None
        self.positions: dict[int, int] = {}
        self.grids: dict[tuple, shapely.Geometry | None] = {}

    def get(self, area_ids) -> shapely.Geometry | None:
        index = get_index()
        key = tuple(sorted(set(area_ids)))
        with self.lock:
            if self.index is not index:
                self.index, self.grids = index, {}
                self.positions = {area.id: i for i, area in enumerate(index.areas)}
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


def worker_areas(worker) -> list:
    return [m.area for m in worker.memberships.all() if m.role == Role.GRID_MANAGER and m.area_id]


def sees_tracks(user) -> bool:
    """Field workers (their own track) and their supervisors."""
    return user.is_superuser or user.has_role(Role.GRID_MANAGER, *SUPERVISOR_ROLES)


def tasks_for(user, *, include_done: bool = False):
    """Inspection tasks in the user's areas (a grid manager's grid, a dispatcher's village…),
    overdue first, then by risk class and due date."""
    from .models import InspectionTask, TaskStatus

    tasks = InspectionTask.objects.filter(scope_for(user).area_q("area_path", include_department_areas=False))
    if not include_done:
        tasks = tasks.filter(status=TaskStatus.OPEN)
    return tasks.select_related("building", "rental__building", "place").order_by("due_date", "risk_class")


def inspections_for(user):
    from .models import Inspection

    return Inspection.objects.filter(scope_for(user).area_q("area_path", include_department_areas=False))
