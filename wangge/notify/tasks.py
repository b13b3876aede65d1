"""Background jobs of the notify app, run by the worker (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .actions import deliver_due


@db_task()
def deliver_notifications(ids=None):
    """Send these outbox rows now (queued after the transaction that wrote them commits)."""
    return deliver_due(ids=ids)


@db_periodic_task(crontab(minute="*"))
def deliver_due_notifications():
    """Every minute: send whatever is due, retries included, and anything a stopped worker missed."""
    return deliver_due()
