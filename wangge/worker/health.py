"""Is the worker keeping time? Each periodic task's state from its heartbeat row, the late ones, and
an alert to administrators (in-app, through notify, once per stall) when one is late."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .lease import registry
from .models import TaskBeat


@dataclass
class TaskState:
    name: str
    every_seconds: int
    running: bool  # a run holds a live lease now
    last_started: datetime | None
    last_ok: datetime | None
    last_error: str
    late: bool
    since: datetime | None  # late: when it last succeeded (or was first seen)


def allowed(every_seconds: int) -> timedelta:
    return timedelta(seconds=every_seconds, minutes=settings.WORKER_LATE_MINUTES)


def states(now=None) -> list[TaskState]:
    """Every periodic task in the code, with its heartbeat; one that never started (no row) is late."""
    now = now or timezone.now()
    tasks = registry()
    beats = {b.name: b for b in TaskBeat.objects.all()}
    result = []
    for name in sorted(set(tasks) | set(beats)):
        beat = beats.get(name)
        if beat is None:
            every = int(tasks[name].every.total_seconds())
            result.append(TaskState(name, every, False, None, None, "", True, None))
            continue
        running = bool(beat.lease_owner) and beat.lease_until is not None and beat.lease_until >= now
        since = beat.last_ok or beat.first_seen
        late = name in tasks and not running and since < now - allowed(beat.every_seconds)
        result.append(
            TaskState(name, beat.every_seconds, running, beat.last_started, beat.last_ok, beat.last_error, late, since)
        )
    return result


def administrators():
    from wangge.accounts.models import Role, User

    admin = Q(is_superuser=True) | Q(memberships__role=Role.ADMIN)
    return User.objects.filter(admin, is_active=True).distinct()


def alert_late(late: list[TaskState]) -> int:
    """Tell every active administrator about each late task, once per stall (the dedupe key names its
    last success). Returns the notifications made."""
    from wangge.notify.actions import notify

    made = 0
    if not late:
        return made
    admins = list(administrators())
    url = reverse("admin:worker_taskbeat_changelist")
    with transaction.atomic():
        for task in late:
            if task.since:
                subject = _("The background task %(task)s has not run since %(since)s") % {
                    "task": task.name,
                    "since": timezone.localtime(task.since).strftime("%Y-%m-%d %H:%M"),
                }
            else:
                subject = _("The background task %(task)s has never run") % {"task": task.name}
            body = _("Reminders, overdue marks and figures may be held back: check that the worker is running.")
            key = f"task-late:{task.name}:{task.since.isoformat() if task.since else 'never'}"
            for user in admins:
                made += len(notify(user, subject, body, url=url, dedupe_key=key))
    return made


def check_late(now=None) -> list[TaskState]:
    """The late tasks, after alerting administrators about them."""
    late = [s for s in states(now) if s.late]
    alert_late(late)
    return late
