"""Who may see whose tracks, and the geometry a worker is assigned to."""

from functools import reduce
from operator import or_

import shapely
from django.db.models import Q
from shapely.geometry import shape

from wangge.accounts.models import Membership, Role, User
from wangge.accounts.scope import scope_for

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


def assigned_grid(worker) -> shapely.Geometry | None:
    """The union of the areas the worker is a grid manager of (None when none has a boundary)."""
    boundaries = [
        shape(m.area.boundary)
        for m in Membership.objects.filter(user=worker, role=Role.GRID_MANAGER).select_related("area")
        if m.area_id and m.area.boundary
    ]
    if not boundaries:
        return None
    grid = shapely.union_all(boundaries)
    shapely.prepare(grid)
    return grid


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
