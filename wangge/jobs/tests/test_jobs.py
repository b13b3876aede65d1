"""The Job row: one claim wins, failures are recorded, old files are cleaned up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.jobs import actions
from wangge.jobs.models import Job, Kind, State

pytestmark = pytest.mark.django_db


def test_only_one_claim_wins(user):
    job = actions.create_job(Kind.EXPORT, "cases", user("town_dispatcher"), params={"format": "csv"})
    assert actions.claim(job.pk) is not None
    assert actions.claim(job.pk) is None
    assert actions.run(job.pk) is None  # a second delivery of the task does nothing
    assert Job.objects.get(pk=job.pk).state == State.RUNNING


def test_a_job_without_permission_fails_with_a_message(user):
    job = actions.create_job(Kind.EXPORT, "departments", user("town_dispatcher"), params={"format": "csv"})
    actions.run(job.pk)
    job.refresh_from_db()
    assert job.state == State.FAILED and job.message and job.finished_at


def test_clean_up_removes_old_jobs_and_files_and_fails_stale_ones(user):
    owner = user("town_dispatcher")
    old = actions.create_job(Kind.EXPORT, "cases", owner, params={"format": "csv"})
    actions.run(old.pk)
    old.refresh_from_db()
    assert old.state == State.DONE and old.directory.exists()
    fresh = actions.create_job(Kind.EXPORT, "cases", owner, params={"format": "csv"})
    actions.run(fresh.pk)
    stuck = actions.create_job(Kind.EXPORT, "cases", owner, params={"format": "csv"})
    actions.claim(stuck.pk)
    later = timezone.now() + timedelta(days=8)
    Job.objects.filter(pk=fresh.pk).update(finished_at=later - timedelta(days=1))
    outcome = actions.clean_up(now=later)
    assert outcome == {"removed": 1, "stale": 1}
    assert not Job.objects.filter(pk=old.pk).exists() and not old.directory.exists()
    assert Job.objects.get(pk=fresh.pk).state == State.DONE
    assert Job.objects.get(pk=stuck.pk).state == State.FAILED
