"""The reference rows every intake reads, cached per process (core.refcache): active matter items
and categories, deadline rules, and who commands where (dispatchers and leaders with their area).

Any save or delete of those rows (admin, actions, shell) bumps the version through the signals at
the bottom; bulk writes (update, bulk_create) through models.ReferenceQuerySet.
Other processes see a change within core.refcache.CHECK_SECONDS.
"""

from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save

from wangge.accounts.models import Membership, Role, User
from wangge.core import refcache

from .models import REFS_CACHE, Category, DeadlineRule, MatterItem

NAME = REFS_CACHE
COMMAND_ROLES = {Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER, Role.LEADER, Role.GRID_MANAGER}


@dataclass(frozen=True)
class Config:
    matter_items: dict  # code → MatterItem (active; category and department loaded)
    categories: dict  # (kind, code) → Category (active)
    categories_by_code: dict  # code → [Category] in (kind, code) order
    rules: dict  # (matter_item_id or None, severity) → DeadlineRule
    commanders: tuple  # (user_id, role, area_path) of active users with a command role over an area


def load() -> Config:
    matter_items = {
        m.code: m for m in MatterItem.objects.filter(is_active=True).select_related("category", "department")
    }
    categories, by_code = {}, {}
    for c in Category.objects.filter(is_active=True).order_by("kind", "code"):
        categories[(c.kind, c.code)] = c
        by_code.setdefault(c.code, []).append(c)
    rules = {}
    for r in DeadlineRule.objects.order_by("pk"):
        rules.setdefault((r.matter_item_id, r.severity), r)
    commanders = tuple(
        Membership.objects.filter(role__in=COMMAND_ROLES, area__isnull=False, user__is_active=True)
        .order_by("user_id", "pk")
        .values_list("user_id", "role", "area__path")
    )
    return Config(matter_items, categories, by_code, rules, commanders)


_cache = refcache.RefCache(NAME, load)
get = _cache.get


def changed():
    refcache.bump(NAME)


def matter_item(code: str) -> MatterItem | None:
    return get().matter_items.get(code)


def category(code: str, kind: str = "") -> Category | None:
    """An active category by code; kind ("part"/"event") when given, else the first by kind."""
    config = get()
    if kind:
        return config.categories.get((kind, code))
    found = config.categories_by_code.get(code)
    return found[0] if found else None


def deadline_rule(matter_item_id: int | None, severity: str) -> DeadlineRule | None:
    rules = get().rules
    return (rules.get((matter_item_id, severity)) if matter_item_id else None) or rules.get((None, severity))


def commanders_over(area_path: str, roles) -> list[tuple[int, str]]:
    """(user_id, role) of active users holding one of `roles` over an area on `area_path`, in user order."""
    roles = set(roles)
    return [
        (user_id, role)
        for user_id, role, path in get().commanders
        if role in roles and area_path.startswith(path) and path
    ]


def _changed(sender, **kwargs):
    if kwargs.get("raw"):
        return
    changed()


def _user_changed(sender, instance, update_fields=None, raw=False, **kwargs):
    # A login touches last_login only: no reload for that. Any other save may (de)activate the user.
    if raw or (update_fields and set(update_fields) <= {"last_login", "password"}):
        return
    changed()


for _model in (MatterItem, Category, DeadlineRule, Membership):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"cases-refs-{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"cases-refs-del-{_model.__name__}")
post_save.connect(_user_changed, sender=User, dispatch_uid="cases-refs-user")
post_delete.connect(_changed, sender=User, dispatch_uid="cases-refs-del-user")
