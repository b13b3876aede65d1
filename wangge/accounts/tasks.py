"""Background jobs of the accounts app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab

from wangge.worker.lease import periodic

from .actions import purge_old_login_failures


@periodic("accounts-purge-login-failures", crontab(minute="*/30"), every=timedelta(minutes=30))
def purge_login_failures():
    """Drop failed-login rows older than the throttling window: they no longer count."""
    return purge_old_login_failures()
