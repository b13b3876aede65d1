"""What follows every case event (the cases actions append one for every change, in their
transaction): the case's reporting day is marked for the worker to recompute its figures (in the
same transaction, so never lost), and after commit a live event goes to open pages."""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from wangge.cases.models import Assignment, Case, CaseEvent
from wangge.core.hotsql import insert

from . import live
from .models import DirtyDay

logger = logging.getLogger(__name__)


@receiver(post_save, sender=CaseEvent, dispatch_uid="insight-case-event")
def case_event_saved(sender, instance: CaseEvent, created, raw=False, **kwargs):
    if not created or raw:
        return
    case = instance.case
    insert(DirtyDay(day=timezone.localdate(case.created_at)))
    if instance.action == "report":
        # A new case: the object is exactly the row being inserted and has no assignments yet, so
        # its message needs no query (intake is the hot path).
        live.publish_in_transaction(new_case_message(case))
    else:
        transaction.on_commit(lambda: publish_case(case.pk, instance.action), robust=True)


_CASE_COLUMNS = (
    *("id", "number", "status", "severity", "lat", "lng", "area_path", "area__name", "command_level"),
    *("is_overdue", "category__name", "created_at", "version", "description"),
)


def case_message(case_id: int, action: str) -> dict | None:
    """The live event for a case as it is now (committed): no personal data."""
    row = Case.objects.filter(pk=case_id).values(*_CASE_COLUMNS).first()
    if row is None:
        return None
    departments = sorted(
        Assignment.objects.filter(case_id=case_id).exclude(status="cancelled").values_list("department_id", flat=True)
    )
    return _message(row, action, departments)


def new_case_message(case: Case) -> dict:
    """The live event for a case being reported, from the object (its area and category are loaded)."""
    row = {
        **{column: getattr(case, column) for column in _CASE_COLUMNS if "__" not in column},
        "area__name": case.area.name,
        "category__name": case.category.name if case.category_id else "",
    }
    return _message(row, "report", [])


def _message(row: dict, action: str, departments: list) -> dict:
    return {
        "type": "case.created" if action == "report" else "case.changed",
        "action": action,
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "severity": row["severity"],
        "lat": row["lat"],
        "lng": row["lng"],
        "area_path": row["area_path"],
        "area": row["area__name"],
        "command_level": row["command_level"],
        "overdue": row["is_overdue"],
        "category": row["category__name"] or "",
        "summary": row["description"][:60],
        "created_at": row["created_at"].isoformat(),
        "version": row["version"],
        "departments": departments,
    }


def publish_case(case_id: int, action: str) -> None:
    message = case_message(case_id, action)
    if message is not None:
        live.publish(message)
