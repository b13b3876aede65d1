"""Jurisdiction: the one place that turns a user into what they may see.

Every list, detail, API and export query for a user passes through restrict(): an object outside
the user's areas is simply not in the queryset, so pages and API answer 404 alike.
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from wangge.areas.models import under

from .models import DEPARTMENT_ROLES, Role


@dataclass(frozen=True)
class Scope:
    everything: bool
    area_paths: tuple[str, ...]  # roots of the subtrees the user works in (area memberships)
    department_ids: frozenset[int]
    # The areas the user's departments serve: visible as places (maps, area pages), but a department
    # sees only the cases assigned to it, not every case of those areas.
    department_area_paths: tuple[str, ...] = ()

    def area_q(self, path_field: str = "path", include_department_areas: bool = True) -> Q:
        if self.everything:
            return Q()
        paths = self.visible_area_paths if include_department_areas else self.area_paths
        if not paths:
            return Q(pk__in=[])
        return reduce(or_, (under(path_field, p) for p in paths))

    @property
    def visible_area_paths(self) -> tuple[str, ...]:
        return _minimal_roots(set(self.area_paths) | set(self.department_area_paths))

    def covers_path(self, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.visible_area_paths)


def _minimal_roots(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already inside another path of the set."""
    ordered = sorted(paths, key=len)
    roots: list[str] = []
    for p in ordered:
        if not any(p.startswith(r) for r in roots):
            roots.append(p)
    return tuple(sorted(roots))


NOTHING = Scope(False, (), frozenset())
EVERYTHING = Scope(True, (), frozenset())


def scope_for(user) -> Scope:
    """The areas and departments a user may see; worked out once per user instance (so once per
    request) from its memberships, and again when they change (User.forget_memberships)."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    return user.from_memberships("scope", lambda: _scope_of(user.membership_list))


def _scope_of(memberships) -> Scope:
    paths, departments, department_paths = set(), set(), set()
    for m in memberships:
        if m.area_id:
            paths.add(m.area.path)
        if m.department_id and m.role in DEPARTMENT_ROLES:
            departments.add(m.department_id)
            department_paths.add(m.department.area.path)
    return Scope(False, _minimal_roots(paths), frozenset(departments), _minimal_roots(department_paths))


def restrict(queryset: QuerySet, user, path_field: str = "path") -> QuerySet:
    """The part of a queryset inside the user's jurisdiction (path_field: the area path to test)."""
    return queryset.filter(scope_for(user).area_q(path_field))


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(Role.ADMIN))
