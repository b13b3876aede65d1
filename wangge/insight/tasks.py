"""Background jobs of the insight app, run by the worker (huey)."""

from datetime import timedelta

from django.conf import settings
from huey import crontab

from wangge.worker.lease import periodic

from . import facts, live


@periodic("insight-refresh-figures", crontab(minute="*"), every=timedelta(minutes=1))
def refresh_figures():
    """Every minute: recompute the days whose cases changed (the first run builds them all)."""
    if facts.needs_first_build():
        return {"rebuilt_days": facts.refresh_all()}
    return {"days": [str(d) for d in facts.refresh_dirty()]}


@periodic("insight-prune-live-events", crontab(minute="*/10"), every=timedelta(minutes=10))
def prune_live_events():
    """The database broker keeps an hour of events: pages away longer reload their data."""
    if settings.LIVE_BROKER == "database":
        return live.DatabaseBroker().prune(3600)
    return 0
