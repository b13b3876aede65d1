"""What the case page puts first and what it says after an action.

`primary_action()`: of the actions this user may take now, the one they most likely take next (the
page's primary button). `CONFIRMED`: irreversible actions, shown apart and confirmed with a reason.
`state_summary()`: what happened and who is next, read from the case as it is now (never from the
button that was pressed), e.g. "已派遣至消防部门，等待其签收（期限 12月3日 17:00）"."""

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import AssignmentStatus, ExtensionStatus, Status

# In order of preference: a decision someone waits for first, then the case's next step.
# (action, the case statuses where it is the likely next step; None: any)
PREFERENCE = [
    ("decide_return", None),
    ("decide_extension", None),
    ("register", (Status.REPORTED,)),
    ("dispatch", (Status.REPORTED, Status.REGISTERED)),
    ("accept", None),
    ("feedback", None),
    ("verify_pass", None),
    ("handle_on_site", None),
    ("evaluate", None),
]

# Irreversible: visually secondary, and sent only after a confirmation that carries a reason.
CONFIRMED = ("reject", "close", "merge")


def primary_action(allowed, status):
    """The name of the action to offer first, or None (nothing this user is expected to do)."""
    for action, statuses in PREFERENCE:
        if action in allowed and (statuses is None or status in statuses):
            return action
    return None


def when(moment):
    """A deadline the short way users read it: 12月3日 17:00."""
    return date_format(timezone.localtime(moment), pgettext("short deadline", "M j, H:i"))


def _names(assignments):
    return pgettext("list separator", ", ").join(a.department.name for a in assignments)


def _desk(case):
    return _("the %(level)s dispatcher") % {"level": case.command_level_label}


def state_summary(case, assignments=None):
    """One or two sentences: where the case is now and whose move it is."""
    if assignments is None:
        assignments = list(case.assignments.select_related("department"))
    s = case.status
    if s == Status.REPORTED:
        text = _("Reported; waiting for %(desk)s to register it") % {"desk": _desk(case)}
        return _with_deadline(text, case.dispatch_deadline)
    if s == Status.REGISTERED:
        returned = [a for a in assignments if a.waits_for_return_decision]
        if returned:  # every department sent it back: the desk decides on the returns first
            return _returned(case, returned)
        text = _("Registered; waiting for %(desk)s to dispatch it") % {"desk": _desk(case)}
        return _with_deadline(text, case.dispatch_deadline)  # a fresh one when the case came back to the desk
    if s == Status.HANDLING:
        return _handling(case, assignments)
    if s == Status.VERIFYING:
        return _("Reported back by the departments; waiting for the grid manager to verify it on site.")
    if s == Status.CLOSED:
        outcome = case.get_outcome_display() or case.get_status_display()
        text = _("Closed (%(outcome)s).") % {"outcome": outcome}
        if not case.satisfaction and case.reporter_id:
            text += " " + _("The reporter may rate the handling.")
        return text
    if s == Status.REJECTED:
        return _("Not registered: %(reason)s. The reporter is told; the case is finished.") % {
            "reason": case.events.filter(action="reject").values_list("note", flat=True).last() or "—"
        }
    if s == Status.MERGED:
        number = case.merged_into.number if case.merged_into_id else "—"
        return _("Merged into case %(number)s; it is handled there.") % {"number": number}
    return case.get_status_display()


def _with_deadline(text, deadline):
    if deadline:
        return _("%(text)s (by %(deadline)s).") % {"text": text, "deadline": when(deadline)}
    return _("%(text)s.") % {"text": text}


def _handling(case, assignments):
    parts = []
    pending = [a for a in assignments if a.status == AssignmentStatus.PENDING]
    accepted = [a for a in assignments if a.status == AssignmentStatus.ACCEPTED]
    returned = [a for a in assignments if a.waits_for_return_decision]
    extension = [a for a in accepted if a.extension_status == ExtensionStatus.REQUESTED]
    if pending:
        text = _("Dispatched to %(departments)s; waiting for them to accept it") % {"departments": _names(pending)}
        parts.append(_with_deadline(text, min(a.deadline for a in pending)))
    if accepted:
        text = _("%(departments)s is handling it") % {"departments": _names(accepted)}
        parts.append(_with_deadline(text, min(a.deadline for a in accepted)))
    if extension:
        parts.append(
            _("%(departments)s asked for more time; waiting for %(desk)s to decide.")
            % {"departments": _names(extension), "desk": _desk(case)}
        )
    if returned:
        parts.append(_returned(case, returned))
    if not parts:
        parts.append(_("Waiting for %(desk)s to dispatch it again.") % {"desk": _desk(case)})
    return " ".join(parts)


def _returned(case, returned):
    return _("%(departments)s returned it; waiting for %(desk)s to decide on the return.") % {
        "departments": _names(returned),
        "desk": _desk(case),
    }
