"""Background jobs of the cases app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab

from wangge.worker.lease import periodic

from .actions import check_deadlines


@periodic("cases-check-deadlines", crontab(minute="*"), every=timedelta(minutes=1))
def check_case_deadlines():
    """Reminders, overdue marks and escalation by rule. Deadlines live in the database, so a
    worker that was down catches up here on its first run."""
    run = check_deadlines()
    return vars(run)
