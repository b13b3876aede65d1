"""The spot rules, run by the worker (huey) under a lease."""

from datetime import timedelta

from huey import crontab

from wangge.worker.lease import periodic

from .actions import run_spot_rules


@periodic("proactive-spot-rules", crontab(minute="7"), every=timedelta(hours=1))
def spot_rules():
    """Hourly: spots past a rule's threshold become proactive work (idempotent: a spot with open
    work, or nothing new since its last work, is left alone)."""
    return {"opened": run_spot_rules()}
