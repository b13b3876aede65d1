"""Periodic tasks that cannot stop the clock: `@periodic(name, crontab, every)` replaces huey's
`@db_periodic_task` + `@lock_task`. huey's lock has no expiry on its SQLite storage, so a worker
killed inside a task kept it locked until someone ran --flush-locks. Here a run holds a lease on the
task's row (TaskBeat) and renews it every few seconds from a side thread while it works:

- a second worker finds the lease held and skips the run, as with the lock;
- a killed worker stops renewing, and its lease ends WORKER_LEASE_SECONDS later; a worker restarted
  on the same machine takes over at once when the process named in the lease is gone;
- every run writes its heartbeat (last started / finished / success / error) on the same row, read by
  /readyz, the admin and health.check_late().
"""

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey.contrib.djhuey import db_periodic_task

from .models import TaskBeat

logger = logging.getLogger(__name__)

HOST = socket.gethostname()


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta  # how often it should run: late after every + WORKER_LATE_MINUTES


REGISTRY: dict[str, Periodic] = {}


def registry() -> dict[str, Periodic]:
    """Every periodic task of the code, in any process (the web's /readyz too): each app's tasks module."""
    autodiscover_modules("tasks")
    return REGISTRY


def periodic(name: str, cron, every: timedelta):
    """A huey periodic task run under its lease, with its heartbeat (see the module's doc)."""
    REGISTRY[name] = Periodic(name, every)

    def decorate(fn):
        @wraps(fn)
        def run(*args, **kwargs):
            with hold(name) as held:
                if not held:
                    return None
                return fn(*args, **kwargs)

        return db_periodic_task(cron)(run)

    return decorate


def register_all(now=None) -> None:
    """A row for every periodic task (at worker start): a task that never ran is late from here."""
    now = now or timezone.now()
    for task in registry().values():
        every = int(task.every.total_seconds())
        beat, created = TaskBeat.objects.get_or_create(
            name=task.name, defaults={"every_seconds": every, "first_seen": now}
        )
        if not created and beat.every_seconds != every:
            TaskBeat.objects.filter(pk=beat.pk).update(every_seconds=every)


def _owner() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _process_gone(owner: str) -> bool:
    """Is the lease's process on this machine and no longer running?"""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(name: str, owner: str, now=None) -> bool:
    """Take the task's lease if it is free, ended, or held by a dead process of this machine."""
    now = now or timezone.now()
    until = now + timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    task = REGISTRY.get(name)
    every = int(task.every.total_seconds()) if task else 60
    TaskBeat.objects.get_or_create(name=name, defaults={"every_seconds": every, "first_seen": now})
    take = {"lease_owner": owner, "lease_until": until, "last_started": now, "runs": F("runs") + 1}
    rows = TaskBeat.objects.filter(name=name)
    if rows.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(**take):
        return True
    held_by = rows.values_list("lease_owner", flat=True).first()
    if held_by and _process_gone(held_by) and rows.filter(lease_owner=held_by).update(**take):
        logger.warning("periodic task %s: took over the lease of %s, a process that is gone", name, held_by)
        return True
    return False


def renew(name: str, owner: str) -> bool:
    until = timezone.now() + timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    return bool(TaskBeat.objects.filter(name=name, lease_owner=owner).update(lease_until=until))


def finish(name: str, owner: str, error: str = "") -> None:
    now = timezone.now()
    fields = {"lease_owner": "", "lease_until": None, "last_finished": now}
    if error:
        fields.update(last_error=error[-4000:], last_error_at=now)
    else:
        fields.update(last_ok=now)
    TaskBeat.objects.filter(name=name, lease_owner=owner).update(**fields)


class _Renewer(threading.Thread):
    """Renews the lease while the task runs (its own database connection, closed at the end)."""

    def __init__(self, name: str, owner: str):
        super().__init__(name=f"lease-{name}", daemon=True)
        self.task, self.owner, self.stopped = name, owner, threading.Event()

    def run(self):
        interval = max(settings.WORKER_LEASE_SECONDS / 3, 0.5)
        try:
            while not self.stopped.wait(interval):
                try:
                    if not renew(self.task, self.owner):
                        logger.error("periodic task %s: lost its lease while running", self.task)
                except Exception:  # the next renewal tries again; the lease is long enough for one miss
                    logger.exception("periodic task %s: could not renew its lease", self.task)
                    connection.close()
        finally:
            connection.close()


def _test_hold(name: str) -> None:
    """Tests only (WORKER_TEST_HOLD_FILE): wait inside the lease, so that a test can kill the worker here."""
    path = settings.WORKER_TEST_HOLD_FILE
    if not path or not os.path.exists(path) or Path(path).read_text().strip() != name:
        return
    Path(path + ".inside").write_text(f"{os.getpid()}\n")
    while os.path.exists(path):
        time.sleep(0.2)


@contextmanager
def hold(name: str):
    """with hold(name) as held: … — held is False when another worker runs the task now."""
    owner = _owner()
    if not claim(name, owner):
        logger.info("periodic task %s: another worker is running it; skipped", name)
        yield False
        return
    renewer = _Renewer(name, owner)
    renewer.start()
    try:
        _test_hold(name)
        yield True
    except BaseException:
        renewer.stopped.set()
        renewer.join()
        error = traceback.format_exc()
        try:
            finish(name, owner, error=error)
        except Exception:  # the task broke the connection: a new one writes the heartbeat
            connection.close()
            finish(name, owner, error=error)
        raise
    renewer.stopped.set()
    renewer.join()
    finish(name, owner)
