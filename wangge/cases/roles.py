"""Who may do what to a case, and who may see it: built on the accounts scope."""

from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q

from wangge.accounts.models import Department, Role, User
from wangge.accounts.scope import scope_for
from wangge.areas.models import Level

from .models import COMMAND_LEVELS, Assignment, Case

DISPATCHER_LEVELS = {
    Role.VILLAGE_DISPATCHER: Level.VILLAGE,
    Role.TOWN_DISPATCHER: Level.TOWN,
    Role.CITY_DISPATCHER: Level.CITY,
}

# The kinds of actor a user can be on one case; the transition table speaks in these.
DISPATCHER = "dispatcher"
GRID_MANAGER = "grid_manager"
HANDLER = "handler"
REPORTER = "reporter"
SYSTEM = "system"


def _memberships(user):
    if not user.is_authenticated:
        return []
    return user.from_memberships(
        "case_roles",
        lambda: [(m.role, m.area.path if m.area_id else "", m.department_id) for m in user.membership_list],
    )


def memberships_of(user) -> list[tuple[str, str, int | None]]:
    """(role, area path or "", department id) of each membership; cached on the user object."""
    return _memberships(user)


def actor_kinds(user, case: Case) -> set[str]:
    """What this user is on this case: dispatcher, grid manager, handler of an assignment, reporter."""
    if user is None or not user.is_authenticated:
        return set()
    kinds = set()
    if user.is_superuser:
        kinds |= {DISPATCHER, GRID_MANAGER}
    case_level = COMMAND_LEVELS.index(case.command_level)
    for role, path, department_id in _memberships(user):
        covers = path and case.area_path.startswith(path)
        if role in DISPATCHER_LEVELS and covers and COMMAND_LEVELS.index(DISPATCHER_LEVELS[role]) >= case_level:
            # A higher level may always step in; a lower one loses the case once it is escalated.
            kinds.add(DISPATCHER)
        elif role == Role.ADMIN and covers:
            kinds.add(DISPATCHER)
        elif role == Role.GRID_MANAGER and covers:
            kinds.add(GRID_MANAGER)
        elif role == Role.DEPARTMENT_HANDLER and department_id:
            if case.assignments.filter(department_id=department_id).exists():
                kinds.add(HANDLER)
    if case.reporter_id == user.pk:
        kinds.add(REPORTER)
    return kinds


def handler_department_ids(user) -> set[int]:
    return {d for role, _path, d in _memberships(user) if role == Role.DEPARTMENT_HANDLER and d}


def visible_cases(user, queryset=None):
    """The cases a user may see: their areas' cases, their departments' assignments, their own reports."""
    queryset = Case.objects.all() if queryset is None else queryset
    scope = scope_for(user)
    if scope.everything:
        return queryset
    conditions = [scope.area_q("area_path", include_department_areas=False)] if scope.area_paths else []
    if scope.department_ids:
        conditions.append(
            Exists(Assignment.objects.filter(case=OuterRef("pk"), department_id__in=scope.department_ids))
        )
    if user.is_authenticated:
        conditions.append(Q(reporter=user))
    if not conditions:
        return queryset.none()
    return queryset.filter(reduce(or_, conditions))


def is_dispatcher(user) -> bool:
    """Does this user command cases anywhere (a dispatcher, an administrator, a superuser)?"""
    return user.is_superuser or any(
        role in DISPATCHER_LEVELS or role == Role.ADMIN for role, _path, _d in _memberships(user)
    )


def commanded_q(user) -> Q:
    """The cases that wait for this user as a dispatcher: under their dispatcher areas at the
    level they command (a town dispatcher: the town's cases escalated to the town, not the
    villages' own); an administrator's area at every level; a superuser everything."""
    if user.is_superuser:
        return Q()
    conditions = []
    for role, path, _department in _memberships(user):
        if role in DISPATCHER_LEVELS and path:
            conditions.append(Q(area_path__startswith=path, command_level=DISPATCHER_LEVELS[role]))
        elif role == Role.ADMIN and path:
            conditions.append(Q(area_path__startswith=path))
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def initial_command_level(area_path: str) -> str:
    """The lowest command level with a dispatcher over this area: village, else town, else city."""
    from . import refs

    roles = {role for _user, role in refs.commanders_over(area_path, DISPATCHER_LEVELS)}
    for level in COMMAND_LEVELS:
        if any(DISPATCHER_LEVELS[r] == level for r in roles):
            return level
    return Level.CITY


def command_user_ids(case: Case, roles=None) -> list[int]:
    """Ids of command_users(case, roles), from the per-process reference cache (no query)."""
    from . import refs

    if roles is None:
        roles = [r for r, level in DISPATCHER_LEVELS.items() if level == case.command_level]
    return list(dict.fromkeys(user_id for user_id, _role in refs.commanders_over(case.area_path, roles)))


def command_users(case: Case, roles=None):
    """Users who command this case at its level (its dispatchers), or holding `roles` over its area."""
    ancestors = [case.area_path[: i + 1] for i, ch in enumerate(case.area_path) if ch == "/"]
    if roles is None:
        roles = [r for r, level in DISPATCHER_LEVELS.items() if level == case.command_level]
    return User.objects.filter(
        is_active=True, memberships__role__in=roles, memberships__area__path__in=ancestors
    ).distinct()


def department_handlers(department_id: int):
    return User.objects.filter(
        is_active=True, memberships__role=Role.DEPARTMENT_HANDLER, memberships__department_id=department_id
    ).distinct()


def dispatchable_departments(case: Case):
    """The departments a case may be dispatched to: active ones over its area (the city's
    departments for every case, a town's departments for that town's cases)."""
    ancestors = [case.area_path[: i + 1] for i, ch in enumerate(case.area_path) if ch == "/"]
    return Department.objects.filter(is_active=True, area__path__in=ancestors)
