"""Background jobs of the callbacks app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab

from wangge.worker.lease import periodic

from .actions import flag_overdue


@periodic("callbacks-flag-overdue", crontab(minute="*/5"), every=timedelta(minutes=5))
def flag_overdue_callbacks():
    """Open callbacks past their due time are marked once (the queue shows them first anyway)."""
    return {"flagged": flag_overdue()}
