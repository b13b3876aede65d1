"""Background jobs of the notify app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_task

from wangge.worker.lease import periodic

from .actions import deliver_due


@db_task()
def deliver_notifications(ids=None):
    """Send these outbox rows now (queued after the transaction that wrote them commits)."""
    return deliver_due(ids=ids)


@periodic("notify-deliver-due", crontab(minute="*"), every=timedelta(minutes=1))
def deliver_due_notifications():
    """Every minute: send whatever is due, retries included, and anything a stopped worker missed."""
    return deliver_due()
