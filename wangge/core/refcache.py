"""Reference rows cached per process, with a version row in the database.

Rows that nearly every request reads and that change only by hand (matter items, categories,
deadline rules, who dispatches where, webhook endpoints) are loaded once per process into a
RefCache. Every change of those rows calls bump(name) in its transaction: the CacheVersion row
of that name moves on, and the local copy is dropped at once. Other processes compare the
version at most every CHECK_SECONDS and reload when it moved, so a change made in the admin
reaches every web worker and the task worker within that time. The same pattern as the area
index (areas.locate, BoundaryVersion).

    config = RefCache("cases.config", load_config)   # load() -> any read-only value
    config.get()                                     # the value, reloaded when stale
    bump("cases.config")                             # after a change, inside its transaction

Rows that change often or in bulk may carry their own version instead (e.g. count, last id, last
change): RefCache(name, load, version=lambda: ...), checked the same way.
"""

import threading
import time
from collections import defaultdict

from django.db import transaction
from django.db.models import F

CHECK_SECONDS = 5.0

_caches: dict[str, list["RefCache"]] = defaultdict(list)


def current_version(name: str) -> int:
    from .models import CacheVersion

    return CacheVersion.objects.filter(name=name).values_list("version", flat=True).first() or 0


def bump(name: str) -> None:
    """The rows behind cache `name` changed: tell every process (call inside the change's transaction)."""
    from .models import CacheVersion

    if not CacheVersion.objects.filter(name=name).update(version=F("version") + 1):
        CacheVersion.objects.get_or_create(name=name, defaults={"version": 1})
    invalidate(name)
    # Also after commit: a reload between the bump and the commit would still see the old rows.
    transaction.on_commit(lambda: invalidate(name))


def invalidate(name: str) -> None:
    for cache in _caches.get(name, []):
        cache.invalidate()


def invalidate_all() -> None:
    for caches in list(_caches.values()):
        for cache in caches:
            cache.invalidate()


class RefCache:
    """A value loaded by load(), kept until the version row of `name` moves on. Hand out the
    value read-only: it is shared by every thread of the process."""

    def __init__(self, name: str, load, check_seconds: float | None = None, version=None):
        """version(): the rows' version, when they have one of their own (default: the CacheVersion
        row of `name`)."""
        self.name, self.load = name, load
        self.version = version or (lambda: current_version(name))
        self.check_seconds = CHECK_SECONDS if check_seconds is None else check_seconds
        self._lock = threading.Lock()
        self._value = None
        self._version = None
        self._checked_at = 0.0
        _caches[name].append(self)

    def get(self):
        value = self._value
        if value is not None and time.monotonic() - self._checked_at < self.check_seconds:
            return value
        with self._lock:
            # The version first, then the rows: a change committed in between only costs a reload.
            version = self.version()
            if self._value is None or version != self._version:
                self._value = self.load()
                self._version = version
            self._checked_at = time.monotonic()
            return self._value

    def invalidate(self):
        with self._lock:
            self._value = None
            self._version = None
