"""Background jobs of field work, run by the worker (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .actions import plan_inspections


@db_periodic_task(crontab(minute="30", hour="0"))
@lock_task("patrol-plan-inspections")
def plan_inspection_tasks():
    """Each night: open the inspection tasks falling due within the planning horizon."""
    return plan_inspections()
