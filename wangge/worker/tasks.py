"""The worker's own periodic work: register every periodic task at start, and watch them."""

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import HUEY, close_db

from . import health, lease


@HUEY.on_startup()
@close_db
def register_periodic_tasks():
    lease.register_all()


@lease.periodic("worker-watch", crontab(minute="*"), every=timedelta(minutes=1))
def watch_periodic_tasks():
    """Every minute: tell administrators about a periodic task that stopped (one stuck or failing;
    a stopped worker is seen by /readyz, which alerts as well)."""
    return [s.name for s in health.check_late()]
