"""Steps while departments work: dispatch, accept, return and the dispatcher's decision on it,
extensions, feedback."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role
from wangge.accounts.resolve import resolve_by, resolve_one
from wangge.notify import actions as notify
from wangge.worktime.calendar import deadline_after

from .. import roles as R
from ..models import (
    ACTIVE_ASSIGNMENT,
    RETURN_WAITING,
    Assignment,
    AssignmentStatus,
    ExtensionStatus,
    ReturnDecision,
    Severity,
    Status,
)
from .common import Step, _local_time, _notify_department, _notify_dispatchers, _require, case_url
from .errors import TransitionNotAllowed
from .rules import rule_for
from .triage import classify


def _my_assignment(case, user, statuses) -> Assignment:
    departments = R.handler_department_ids(user)
    assignment = case.assignments.filter(department_id__in=departments, status__in=statuses).order_by("id").first()
    if assignment is None:
        raise TransitionNotAllowed(_("Your department has no assignment on this case in that state."))
    return assignment


def _step_dispatch(
    case, user, *, departments=None, note="", hours=None, category=None, matter_item=None, severity=None, **_params
):
    codes = _require(departments, "departments", _("Choose at least one department."))
    if category or matter_item or severity:  # classified at dispatch (e.g. a routing suggestion taken)
        classify(case, category=category, matter_item=matter_item, severity=severity, replace=bool(matter_item))
    if isinstance(codes, str):
        codes = [codes]
    # Only departments that serve the case's area: the city's, or its own town's.
    message = _("Unknown department, or not one that serves this case's area.")
    found = resolve_by(R.dispatchable_departments(case), codes, "departments", attr="code", message=message)
    if hours is not None and not (0 < float(hours) <= 24 * 365):
        raise ValidationError({"hours": _("Hours must be between 0 and a year.")})
    active = case.assignments.filter(status__in=ACTIVE_ASSIGNMENT)
    busy = dict(active.values_list("department__code", "department__name"))
    if busy.keys() & set(codes):
        names = "、".join(sorted(busy.values()))  # by name: the message is read by people
        raise ValidationError({"departments": _("Already working on it: %(c)s.") % {"c": names}})
    rule = rule_for(case.matter_item, case.severity)
    now = timezone.now()
    handle_hours = float(hours) if hours is not None else rule.handle_hours
    deadline = deadline_after(now, handle_hours, working_hours=rule.working_hours)
    if case.due_at is not None and case.due_at < deadline:
        deadline = case.due_at  # the sender's deadline (a hotline work order) comes first
    remind_at = deadline - timedelta(hours=rule.remind_before_hours)
    assignments = [
        Assignment.objects.create(
            case=case, department=d, deadline=deadline, remind_at=remind_at if remind_at > now else None
        )
        for d in found
    ]
    case.dispatched_at = case.dispatched_at or now
    step = Step(
        Status.HANDLING,
        note,
        {"departments": [d.code for d in found], "deadline": deadline.isoformat(), "hours": handle_hours},
    )

    def tell_departments(case):
        for a in assignments:
            _notify_department(
                a.department_id,
                case,
                _("New assignment: case %(n)s") % {"n": case.number},
                _("Deadline %(d)s. %(text)s") % {"d": _local_time(a.deadline), "text": case.description[:150]},
                sms=case.severity == Severity.URGENT,
                dedupe_key=f"assignment:{a.pk}:new",
            )

    step.notifications.append(tell_departments)
    return step


def _step_recall(case, user, *, note="", **_params):
    """撤回派遣: the dispatch is taken back while no department has accepted it (a wrong department,
    or an automatic dispatch a dispatcher undoes); the case waits at the desk again."""
    active = list(case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).select_related("department"))
    if not active or any(a.status != AssignmentStatus.PENDING for a in active):
        raise TransitionNotAllowed(_("A department has already accepted it: the dispatch cannot be taken back."))
    for assignment in active:
        assignment.status = AssignmentStatus.CANCELLED
        assignment.save(update_fields=["status"])
    step = Step(Status.REGISTERED, note, {"departments": [a.department.code for a in active]}, public=False)

    def tell_departments(case):
        for a in active:
            _notify_department(
                a.department_id,
                case,
                _("Assignment taken back: case %(n)s") % {"n": case.number},
                note,
                dedupe_key=f"assignment:{a.pk}:recalled",
            )

    step.notifications.append(tell_departments)
    return step


def _step_accept(case, user, **_params):
    assignment = _my_assignment(case, user, [AssignmentStatus.PENDING])
    assignment.status, assignment.accepted_at = AssignmentStatus.ACCEPTED, timezone.now()
    assignment.save(update_fields=["status", "accepted_at"])
    return Step(Status.HANDLING, "", {"department": assignment.department.code})


def _step_return(case, user, *, note="", reason="", **_params):
    text = _require(note or reason, "note", _("Say why this is not your department's."))
    assignment = _my_assignment(case, user, ACTIVE_ASSIGNMENT)
    assignment.status, assignment.return_reason = AssignmentStatus.RETURNED, text
    # A new return waits for a new decision (an earlier overruled one stays in the trail).
    assignment.return_decision, assignment.return_decided_at = ReturnDecision.NONE, None
    assignment.save(update_fields=["status", "return_reason", "return_decision", "return_decided_at"])
    step = Step(_status_after_assignments(case), text, {"department": assignment.department.code}, public=False)
    step.notifications.append(
        lambda c: _notify_dispatchers(
            c, _("Case %(n)s returned by %(d)s") % {"n": c.number, "d": assignment.department}, None
        )
    )
    return step


def _step_decide_return(case, user, *, assignment=None, approve=None, note="", reason="", **_params):
    """The dispatcher's word on a department's return (退回审核). Accepted: the assignment leaves the
    department's figures. Overruled: the department must do it after all — the assignment is
    pending again with its original deadline (the clock ran on while it was away; a deadline that
    passed meanwhile is marked overdue by the deadline checker's next run)."""
    approve = _yes_or_no(approve, "approve", _("Accept the return or overrule it."))
    undecided = case.assignments.filter(RETURN_WAITING)
    message = _("No return of this case waits for a decision under that id.")
    target = resolve_one(undecided.select_related("department"), assignment, "assignment", message=message)
    text = (note or reason).strip()
    data = {"department": target.department.code, "approved": approve}
    target.return_decided_at = timezone.now()
    if approve:
        target.return_decision = ReturnDecision.ACCEPTED
        target.save(update_fields=["return_decision", "return_decided_at"])
        return Step(case.status, text, data, public=False)
    _require(text, "note", _("Say why the department must handle it."))
    if case.status in (Status.VERIFYING, Status.CLOSED):
        # A return left undecided until the work was done elsewhere: it can still be accepted (so it
        # does not count against the department for ever), not sent back.
        raise ValidationError({"approve": _("The work on this case is done: accept the return, or reopen the case.")})
    if case.assignments.filter(department_id=target.department_id, status__in=ACTIVE_ASSIGNMENT).exists():
        raise ValidationError(
            {"assignment": _("%(d)s is working on this case again: accept this return.") % {"d": target.department}}
        )
    target.status, target.return_decision = AssignmentStatus.PENDING, ReturnDecision.OVERRULED
    target.save(update_fields=["status", "return_decision", "return_decided_at"])
    if target.overdue_at is not None:
        case.is_overdue = True
    step = Step(Status.HANDLING, text, data, public=False)

    def tell_department(case):
        _notify_department(
            target.department_id,
            case,
            _("Return not accepted: case %(n)s is yours to handle") % {"n": case.number},
            _("Deadline %(d)s. %(text)s") % {"d": _local_time(target.deadline), "text": text[:150]},
            dedupe_key=f"assignment:{target.pk}:overruled:{case.version}",
        )

    step.notifications.append(tell_department)
    return step


def _yes_or_no(value, field_name, message) -> bool:
    """A yes/no parameter: a boolean, or 1/0, "true"/"false" as forms and scripts send them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "0", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise ValidationError({field_name: message})


def _step_request_extension(case, user, *, hours=None, note="", reason="", **_params):
    try:
        hours = float(_require(hours, "hours", _("How many more hours?")))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"hours": _("Hours must be a number.")}) from exc
    if not 0 < hours <= 24 * 90:
        raise ValidationError({"hours": _("Hours must be between 0 and 90 days.")})
    text = _require(note or reason, "note", _("Say why more time is needed."))
    assignment = _my_assignment(case, user, [AssignmentStatus.ACCEPTED])
    if assignment.extension_status == ExtensionStatus.REQUESTED:
        raise TransitionNotAllowed(_("An extension is already waiting for a decision."))
    assignment.extension_status, assignment.extension_hours, assignment.extension_reason = (
        ExtensionStatus.REQUESTED,
        hours,
        text,
    )
    assignment.save(update_fields=["extension_status", "extension_hours", "extension_reason"])
    step = Step(Status.HANDLING, text, {"department": assignment.department.code, "hours": hours}, public=False)
    step.notifications.append(
        lambda c: _notify_dispatchers(c, _("Case %(n)s: more time asked") % {"n": c.number}, None)
    )
    return step


def _step_decide_extension(case, user, *, approve=None, note="", assignment=None, **_params):
    if approve is None:
        raise ValidationError({"approve": _("Approve or refuse.")})
    pending = case.assignments.filter(extension_status=ExtensionStatus.REQUESTED)
    if assignment:
        message = _("No extension is waiting for a decision.")
        target = resolve_one(pending, assignment, "assignment", message=message)
    else:
        target = pending.order_by("id").first()
    if target is None:
        raise TransitionNotAllowed(_("No extension is waiting for a decision."))
    data = {"department": target.department.code, "approved": bool(approve)}
    if approve:
        rule = rule_for(case.matter_item, case.severity)
        target.deadline = deadline_after(target.deadline, target.extension_hours, working_hours=rule.working_hours)
        target.remind_at = target.deadline - timedelta(hours=rule.remind_before_hours)
        target.reminded_at = target.overdue_at = None
        data["deadline"] = target.deadline.isoformat()
    target.extension_status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    target.save()
    if approve:
        case.is_overdue = (
            case.assignments.filter(status__in=ACTIVE_ASSIGNMENT, overdue_at__isnull=False)
            .exclude(pk=target.pk)
            .exists()
        )
    return Step(Status.HANDLING, note, data, public=False)


def _step_feedback(case, user, *, note="", **_params):
    text = _require(note, "note", _("Say what was done."))
    assignment = _my_assignment(case, user, [AssignmentStatus.ACCEPTED])
    assignment.status, assignment.feedback, assignment.done_at = AssignmentStatus.DONE, text, timezone.now()
    assignment.save(update_fields=["status", "feedback", "done_at"])
    to_status = _status_after_assignments(case)
    step = Step(to_status, text, {"department": assignment.department.code})
    if to_status == Status.VERIFYING:

        def ask_grid_managers(case):
            for manager in R.command_users(case, roles=[Role.GRID_MANAGER]):
                notify.notify(
                    manager,
                    _("Verify case %(n)s on site") % {"n": case.number},
                    case.description[:150],
                    url=case_url(case),
                    dedupe_key=f"case:{case.pk}:verify:{case.version}",
                )

        step.notifications.append(ask_grid_managers)
    return step


def _status_after_assignments(case) -> str:
    """Handling while a department works on it; verifying when all have reported back; back to
    the dispatcher when every department returned it."""
    statuses = set(case.assignments.values_list("status", flat=True))
    if statuses & set(ACTIVE_ASSIGNMENT):
        return Status.HANDLING
    if AssignmentStatus.DONE in statuses:
        return Status.VERIFYING
    return Status.REGISTERED
