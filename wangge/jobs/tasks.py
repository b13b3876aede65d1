"""Background work of the jobs app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_task, on_startup

from wangge.history.context import change_context
from wangge.worker.lease import periodic

from . import actions


@db_task()
def run_job(job_id):
    """Run one queued job (queued after the transaction that made it commits)."""
    with change_context("worker"):
        actions.run(job_id)


@periodic("jobs-clean-up", crontab(minute="23"), every=timedelta(hours=1))
def clean_up_jobs():
    """Every hour: drop old finished jobs and their files, fail jobs a stopped worker left running."""
    return actions.clean_up()


@on_startup()
def recover_imports():
    """At the worker's start: an import its previous run left half done is undone (SQLite batches)."""
    from django.db import connection

    try:
        actions.recover_imports()
    finally:
        connection.close()
