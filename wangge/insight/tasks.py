"""Background jobs of the insight app, run by the worker (huey)."""

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import facts, live


@db_periodic_task(crontab(minute="*"))
@lock_task("insight-refresh-figures")
def refresh_figures():
    """Every minute: recompute the days whose cases changed (the first run builds them all)."""
    if facts.needs_first_build():
        return {"rebuilt_days": facts.refresh_all()}
    return {"days": [str(d) for d in facts.refresh_dirty()]}


@db_periodic_task(crontab(minute="*/10"))
def prune_live_events():
    """The database broker keeps an hour of events: pages away longer reload their data."""
    if settings.LIVE_BROKER == "database":
        return live.DatabaseBroker().prune(3600)
    return 0
