"""Deadlines, run by the worker every minute (see the section comment)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role
from wangge.notify import actions as notify

from .. import roles as R
from ..models import (
    ACTIVE_ASSIGNMENT,
    COMMAND_LEVELS,
    Assignment,
    Case,
    Status,
)
from .common import _append_event, _local_time, _notify_department, _notify_dispatchers, case_url
from .rules import rule_for
from .transitions import transition

# ---------------------------------------------------------------------------------------------
# Deadlines: run by the worker every minute; every step is marked in the database, so a worker
# that was stopped catches up on its next run and never repeats what it already did.


@dataclass
class DeadlineRun:
    reminded: int = 0
    overdue: int = 0
    dispatch_overdue: int = 0
    escalated: int = 0


def check_deadlines(now=None) -> DeadlineRun:
    now = now or timezone.now()
    run = DeadlineRun()
    for assignment_id in Assignment.objects.filter(
        status__in=ACTIVE_ASSIGNMENT, reminded_at__isnull=True, remind_at__lte=now
    ).values_list("pk", flat=True):
        run.reminded += _remind(assignment_id, now)
    for assignment_id in Assignment.objects.filter(
        status__in=ACTIVE_ASSIGNMENT, overdue_at__isnull=True, deadline__lte=now
    ).values_list("pk", flat=True):
        overdue, escalated = _mark_assignment_overdue(assignment_id, now)
        run.overdue += overdue
        run.escalated += escalated
    for case_id in Case.objects.filter(
        status__in=(Status.REPORTED, Status.REGISTERED), dispatch_overdue_at__isnull=True, dispatch_deadline__lte=now
    ).values_list("pk", flat=True):
        run.dispatch_overdue += _mark_dispatch_overdue(case_id, now)
    return run


@transaction.atomic
def _remind(assignment_id, now) -> int:
    claimed = Assignment.objects.filter(pk=assignment_id, reminded_at__isnull=True).update(reminded_at=now)
    if not claimed:
        return 0  # another worker got it
    a = Assignment.objects.select_related("case", "department").get(pk=assignment_id)
    _notify_department(
        a.department_id,
        a.case,
        _("Reminder: case %(n)s is due %(d)s") % {"n": a.case.number, "d": _local_time(a.deadline)},
        a.case.description[:150],
        sms=True,
        dedupe_key=f"assignment:{a.pk}:remind",
    )
    return 1


@transaction.atomic
def _mark_assignment_overdue(assignment_id, now) -> tuple[int, int]:
    claimed = Assignment.objects.filter(pk=assignment_id, overdue_at__isnull=True).update(overdue_at=now)
    if not claimed:
        return 0, 0
    a = Assignment.objects.select_related("case", "department").get(pk=assignment_id)
    case = a.case
    Case.objects.filter(pk=case.pk).update(is_overdue=True)
    _append_event(
        case, "overdue", case.status, case.status, None, "system", data={"department": a.department.code}, public=False
    )
    subject = _("Overdue: case %(n)s at %(d)s") % {"n": case.number, "d": a.department}
    for user in R.command_users(case, roles=[*R.DISPATCHER_LEVELS, Role.LEADER]):
        notify.notify(
            user, subject, case.description[:150], url=case_url(case), dedupe_key=f"assignment:{a.pk}:overdue"
        )
    rule = rule_for(case.matter_item, case.severity)
    if rule.escalate_when_overdue and case.command_level != COMMAND_LEVELS[-1]:
        transition(case.pk, None, "escalate", version=None, note=_("Escalated by rule: deadline passed."))
        return 1, 1
    return 1, 0


@transaction.atomic
def _mark_dispatch_overdue(case_id, now) -> int:
    claimed = Case.objects.filter(pk=case_id, dispatch_overdue_at__isnull=True).update(
        dispatch_overdue_at=now, is_overdue=True
    )
    if not claimed:
        return 0
    case = Case.objects.get(pk=case_id)
    _append_event(case, "dispatch_overdue", case.status, case.status, None, "system", public=False)
    _notify_dispatchers(case, _("Not dispatched in time: case %(n)s") % {"n": case.number}, f"case:{case.pk}:late")
    return 1
