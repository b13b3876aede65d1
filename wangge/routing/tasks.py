"""Background work of routing, run by the worker (huey): training a version (on demand and every
week, so the platform's own decisions are learned), and the automatic dispatch after intake."""

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_task

from wangge.history.context import change_context
from wangge.worker.lease import periodic

from . import actions
from .models import ModelStatus, RoutingModel


@db_task()
def train_task(record_id: int):
    record = RoutingModel.objects.filter(pk=record_id, status=ModelStatus.TRAINING).first()
    if record is None:
        return None
    with change_context("worker"):
        return actions.train(record).status


@periodic("routing-retrain", crontab(day_of_week="0", hour="3", minute="30"), every=timedelta(days=7))
def weekly_retrain():
    """Every Sunday night: a new version from the shipped set and the week's decisions."""
    from django.core.exceptions import ValidationError

    try:
        record = actions.start_training(None, actions.WEEKLY_REASON)
    except ValidationError:
        return {"skipped": "a version is being trained"}
    with change_context("worker"):
        return {"version": record.version, "status": actions.train(record).status}


@db_task()
def auto_route_task(case_id: int):
    with change_context("worker"):
        row = actions.auto_route(case_id)
    return bool(row and row.auto_routed_at)
