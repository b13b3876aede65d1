"""Background jobs of field work, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab

from wangge.worker.lease import periodic

from .actions import plan_inspections


@periodic("patrol-plan-inspections", crontab(minute="30", hour="0"), every=timedelta(days=1))
def plan_inspection_tasks():
    """Each night: open the inspection tasks falling due within the planning horizon."""
    return plan_inspections()
