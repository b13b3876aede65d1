"""The case events of a work order's case that the platform is told of (actions.push_state).

A post_save receiver on CaseEvent (written by intake and transition(), inside their transaction):
the pushed state is queued in the same transaction as the event. Only cases of channel `workorder`
are looked at, from the case already in memory: no query for any other case.
"""

from django.db.models.signals import post_save

from wangge.cases.models import AssignmentStatus, Case, CaseEvent, Channel, Outcome, Status

from . import actions
from .models import State


def state_of(event: CaseEvent) -> tuple[str, dict] | None:
    """(state, payload) the platform is told for this event, or None."""
    to, case = event.to_status, event.case
    if event.action == "callback":  # the callbacks app's result: told once the call is done
        if event.data.get("result") in (None, "", "not_reached"):
            return None
        return State.CALLBACK, {k: event.data.get(k) for k in ("result", "resolved", "satisfaction")}
    if event.action == "reopen":
        return State.REOPENED, {"note": event.note}
    if to == Status.REGISTERED and event.from_status in ("", Status.REPORTED):
        return State.ACCEPTED, {}
    if event.action == "dispatch":
        assignments = case.assignments.filter(department__code__in=event.data.get("departments", []))
        departments = [{"code": a.department.code, "name": a.department.name} for a in assignments]
        return State.DISPATCHED, {"departments": departments, "deadline": event.data.get("deadline")}
    if to == Status.VERIFYING:
        # Every department's report-back (joint handling: each one's own).
        done = case.assignments.filter(status=AssignmentStatus.DONE).select_related("department")
        reports = [{"department": a.department.name, "feedback": a.feedback} for a in done]
        return State.FEEDBACK, {"feedback": event.note, "reports": reports}
    if to == Status.CLOSED:
        return State.CLOSED, {"outcome": case.outcome or Outcome.FIXED, "note": event.note}
    if to == Status.REJECTED:
        return State.CLOSED, {"outcome": "rejected", "note": event.note}
    if to == Status.MERGED:
        return State.CLOSED, {"outcome": "merged", "into": event.data.get("into"), "note": event.note}
    return None


def _event_written(sender, instance: CaseEvent, created=False, raw=False, **kwargs):
    if not created or raw:
        return
    if CaseEvent.case.is_cached(instance):  # intake and transition() hand the case in: no query
        case = instance.case
    else:
        case = Case.objects.filter(pk=instance.case_id).first()
    if case is None or case.channel != Channel.WORKORDER:
        return
    found = state_of(instance)
    if found is not None:
        actions.push_state(case, *found)


post_save.connect(_event_written, sender=CaseEvent, dispatch_uid="workorders-case-event")
