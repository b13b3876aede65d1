"""Who may see, summon, report and close; the summonses a user sees. Built on the accounts scope and
the cases' memberships (cached on the user for the request)."""

from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q

from wangge.accounts.models import Department, Role
from wangge.accounts.scope import scope_for
from wangge.areas.models import under
from wangge.cases import roles as case_roles

from .models import Attendance, Status, SummonedDepartment, Summons

# Who blows the whistle (吹哨): the dispatchers of towns and villages, over their own area.
SUMMONING_ROLES = frozenset({Role.TOWN_DISPATCHER, Role.VILLAGE_DISPATCHER})


def summoning_paths(user) -> list[str]:
    """The area paths this user may summon in ("" for everywhere: a superuser)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [""]
    return [path for role, path, _d in case_roles.memberships_of(user) if role in SUMMONING_ROLES and path]


def may_summon(user) -> bool:
    return bool(summoning_paths(user))


def may_summon_at(user, area_path: str) -> bool:
    return any(area_path.startswith(p) for p in summoning_paths(user))


def summoning_q(user, path_field: str = "area_path") -> Q:
    paths = summoning_paths(user)
    if "" in paths:
        return Q()
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (under(path_field, p) for p in paths))


def handler_department_ids(user) -> set[int]:
    return case_roles.handler_department_ids(user) if user.is_authenticated else set()


def visible(user):
    """The summonses a user may see: those of their areas, and those that summon their departments."""
    queryset = Summons.objects.select_related("case", "area", "created_by")
    scope = scope_for(user)
    if scope.everything:
        return queryset
    if not sees_summonses(user):  # grid managers, the hotline, citizens: not their work
        return queryset.none()
    # Areas only of the roles whose work summonses are (a grid manager's or call taker's area is not).
    paths = [path for role, path, _d in case_roles.memberships_of(user) if path and role in AREA_ROLES]
    conditions = [under("area_path", path) for path in paths]
    if scope.department_ids:
        summoned = SummonedDepartment.objects.filter(summons=OuterRef("pk"), department_id__in=scope.department_ids)
        conditions.append(Exists(summoned))
    if not conditions:
        return queryset.none()
    return queryset.filter(reduce(or_, conditions))


AREA_ROLES = {*case_roles.DISPATCHER_LEVELS, Role.LEADER, Role.ADMIN}


def sees_summonses(user) -> bool:
    """Whether the menu offers the list: dispatchers, leaders, administrators, department staff."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    roles = {role for role, _p, _d in case_roles.memberships_of(user)}
    return bool(roles & {*case_roles.DISPATCHER_LEVELS, Role.LEADER, Role.ADMIN, Role.DEPARTMENT_HANDLER})


def with_counts(queryset):
    """Each summons with how many departments it called, arrived (on time or late) and late."""
    return queryset.annotate(
        n_departments=Count("departments", distinct=True),
        n_arrived=Count("departments", filter=Q(departments__arrived_at__isnull=False), distinct=True),
        n_late=Count("departments", filter=Q(departments__state=Attendance.LATE), distinct=True),
    )


def filter_list(queryset, show: str, user, now=None):
    """The list's tabs: open, mine (waiting for my department's arrival), closed, all."""
    if show == "closed":
        return queryset.filter(status=Status.CLOSED)
    if show == "all":
        return queryset
    queryset = queryset.filter(status=Status.OPEN)
    if show in ("mine", "mine_overdue"):
        waiting = SummonedDepartment.objects.filter(
            summons=OuterRef("pk"), department_id__in=handler_department_ids(user), state=Attendance.WAITING
        )
        queryset = queryset.filter(Exists(waiting))
        if show == "mine_overdue":
            queryset = queryset.filter(arrive_by__lt=now)
    elif show == "overdue":
        late = SummonedDepartment.objects.filter(summons=OuterRef("pk"), state=Attendance.WAITING)
        queryset = queryset.filter(Exists(late), arrive_by__lt=now)
    return queryset


def summonable_departments(area_path: str):
    """The departments a place's summons may call: active ones over its area (the city's departments
    everywhere, a town's own in that town): the same rule as dispatching a case there."""
    ancestors = [area_path[: i + 1] for i, ch in enumerate(area_path) if ch == "/"]
    return Department.objects.filter(is_active=True, area__path__in=ancestors)
