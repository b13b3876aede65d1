"""Background jobs of the cases app, run by the worker (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .actions import check_deadlines


@db_periodic_task(crontab(minute="*"))
@lock_task("cases-check-deadlines")
def check_case_deadlines():
    """Reminders, overdue marks and escalation by rule. Deadlines live in the database, so a
    worker that was down catches up here on its first run."""
    run = check_deadlines()
    return vars(run)
