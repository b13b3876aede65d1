"""Background jobs of the accounts app, run by the worker (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .actions import purge_old_login_failures


@db_periodic_task(crontab(minute="*/30"))
def purge_login_failures():
    """Drop failed-login rows older than the throttling window: they no longer count."""
    return purge_old_login_failures()
