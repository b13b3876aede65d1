"""Background jobs of the cases app, run by the worker (huey)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from huey import crontab

from wangge.worker.lease import periodic

from .actions import check_deadlines
from .photos import delete_unattached


@periodic("cases-check-deadlines", crontab(minute="*"), every=timedelta(minutes=1))
def check_case_deadlines():
    """Reminders, overdue marks and escalation by rule. Deadlines live in the database, so a
    worker that was down catches up here on its first run."""
    run = check_deadlines()
    return vars(run)


@periodic("cases-delete-unattached-photos", crontab(minute="17"), every=timedelta(hours=1))
def delete_unattached_photos():
    """Every hour: photos uploaded and never attached to a case, older than UNATTACHED_PHOTO_HOURS
    (a day by default), are deleted with their files."""
    return delete_unattached(timezone.now() - timedelta(hours=settings.UNATTACHED_PHOTO_HOURS))
