"""Background jobs of the summons app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab

from wangge.worker.lease import periodic

from .actions import mark_overdue


@periodic("summons-mark-overdue", crontab(minute="*"), every=timedelta(minutes=1))
def mark_overdue_summonses():
    """Departments still missing when a summons' deadline passes: on the trail, the dispatcher told."""
    return {"marked": mark_overdue()}
