"""The per-process reference cache: loaded once, reloaded when another process bumps the version."""

import pytest
from django.db import connection

from wangge.cases import refs
from wangge.cases.models import DeadlineRule, MatterItem, Severity
from wangge.core import refcache
from wangge.core.models import CacheVersion


def bump_elsewhere(name):
    """What another process's bump leaves behind here: a new version row, no local invalidation."""
    if not CacheVersion.objects.filter(name=name).exists():
        CacheVersion.objects.create(name=name, version=0)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_cacheversion SET version = version + 1 WHERE name = %s", [name])


@pytest.fixture
def counted(db):
    loads = []
    cache = refcache.RefCache("test.counted", lambda: loads.append(1) or len(loads), check_seconds=3600)
    yield cache, loads
    refcache._caches.pop("test.counted", None)


def test_loaded_once_and_kept_while_the_version_stands(counted):
    cache, loads = counted
    assert cache.get() == 1 and cache.get() == 1 and len(loads) == 1


def test_a_bump_in_another_process_is_seen_at_the_next_check(counted):
    cache, loads = counted
    assert cache.get() == 1
    bump_elsewhere("test.counted")
    assert cache.get() == 1  # not checked again yet: the check interval has not passed
    cache._checked_at -= cache.check_seconds + 1  # the interval passes
    assert cache.get() == 2
    cache._checked_at -= cache.check_seconds + 1
    assert cache.get() == 2  # checked again, same version: no reload


def test_a_bump_in_this_process_is_seen_at_once(counted):
    cache, loads = counted
    assert cache.get() == 1
    refcache.bump("test.counted")
    assert cache.get() == 2


def test_a_matter_item_changed_by_another_process_reaches_the_intake(db):
    item = MatterItem.objects.get(code="street_vendor")
    assert refs.matter_item("street_vendor").name == item.name
    # Another process renames it: the row and the version move on, no signal here.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_matteritem SET name = %s WHERE id = %s", ["占道经营（新）", item.pk])
    bump_elsewhere(refs.NAME)
    assert refs.matter_item("street_vendor").name == item.name  # within the check interval
    refs._cache._checked_at -= refs._cache.check_seconds + 1
    assert refs.matter_item("street_vendor").name == "占道经营（新）"


def test_saves_and_bulk_updates_in_this_process_take_effect_at_once(db):
    item = MatterItem.objects.get(code="street_vendor")
    refs.matter_item("street_vendor")
    item.is_active = False
    item.save()
    assert refs.matter_item("street_vendor") is None
    DeadlineRule.objects.filter(matter_item=None, severity=Severity.NORMAL).update(handle_hours=99)
    assert refs.deadline_rule(None, Severity.NORMAL).handle_hours == 99


def test_rows_with_a_version_of_their_own(db):
    """version=: the cache follows a version the rows carry themselves (no CacheVersion row to bump)."""
    version, loads = [1], []
    cache = refcache.RefCache(
        "test.own", lambda: loads.append(1) or len(loads), check_seconds=0, version=lambda: version[0]
    )
    try:
        assert cache.get() == 1 and cache.get() == 1
        version[0] = 2
        assert cache.get() == 2
    finally:
        refcache._caches.pop("test.own", None)
