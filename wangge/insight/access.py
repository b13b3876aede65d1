"""Who may use the command pages, and over which areas: dispatchers, leaders and administrators,
at the areas of those memberships (a village dispatcher: their village, never the next one)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.areas.models import Area

COMMAND_ROLES = (Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER, Role.LEADER, Role.ADMIN)


def command_areas(user) -> list[Area]:
    """The roots the user commands (the widest first); empty: no command pages for them. Worked
    out once per user instance from its memberships, as accounts.scope.scope_for is."""
    if not user.is_authenticated:
        return []
    return list(user.from_memberships("command_areas", lambda: _command_areas(user)))


def _command_areas(user) -> list[Area]:
    if user.is_superuser:
        return list(Area.objects.filter(parent__isnull=True).defer("boundary").order_by("code"))
    # The membership list leaves the boundaries out (GeoJSON, kilobytes an area): the command
    # pages draw outlines by their own call.
    areas = {m.area.path: m.area for m in user.membership_list if m.role in COMMAND_ROLES and m.area_id}
    roots = [
        a
        for p, a in sorted(areas.items(), key=lambda kv: len(kv[0]))
        if not any(p != q and p.startswith(q) for q in areas)
    ]
    return sorted(roots, key=lambda a: (len(a.path), a.code))


def is_commander(user) -> bool:
    return bool(command_areas(user))


def area_for(user, code: str | None) -> Area:
    """The area a command page shows: `code` when inside the user's areas (404 otherwise, as for
    any object outside the jurisdiction), else their widest area. 403 for users without one."""
    roots = command_areas(user)
    if not roots:
        raise PermissionDenied
    if not code:
        return roots[0]
    area = Area.objects.filter(code=code).defer("boundary").first()
    if area is None or not any(area.path.startswith(r.path) for r in roots):
        raise Http404
    return area


def can_see_message(user, message: dict) -> bool:
    """May this user see a live event about a case (the same rule as cases.roles.visible_cases)?"""
    scope = scope_for(user)
    if scope.everything:
        return True
    path = message.get("area_path") or ""
    if any(path.startswith(p) for p in scope.area_paths):
        return True
    return bool(scope.department_ids & set(message.get("departments") or ()))
