"""Reading cases: the user's list with its filters, queue counts, the citizen's public view."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from wangge.areas.models import Area, under

from . import roles
from .models import (
    ACTIVE_ASSIGNMENT,
    FINISHED_STATUSES,
    OPEN_STATUSES,
    RETURN_WAITING,
    Assignment,
    AssignmentStatus,
    Case,
    ExtensionStatus,
    ReturnDecision,
    Severity,
    Status,
)

WAITING_DISPATCH = (Status.REPORTED, Status.REGISTERED)


def case_list(user):
    return roles.visible_cases(user).select_related("area", "category", "matter_item")


# The queue's filters as they arrive in the address (the page, its export and the workbench's links
# read them through filter_args, so a link's count and its list are the same query).
QUEUE_FILTERS = (
    *("status", "overdue", "due_today", "returns", "area", "department", "category", "channel", "q", "from", "to"),
    *("mine", "severity", "dispatch_overdue", "extensions", "duplicates"),
)


def _day(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filter_args(user, params) -> dict:
    """filter_cases' keyword arguments (but status) from the queue's address parameters."""
    p = {f: str(params.get(f, "") or "").strip() for f in QUEUE_FILTERS}
    return {
        "overdue": {"1": True, "0": False}.get(p["overdue"]),
        "due_today": p["due_today"] == "1",
        "returns_waiting": p["returns"] == "1",
        "area": p["area"],
        "department": p["department"],
        "category": p["category"],
        "channel": p["channel"],
        "q": p["q"],
        "reported_from": _day(p["from"]),  # the dashboards' period
        "reported_to": _day(p["to"]),
        "commander": user if p["mine"] == "1" else None,
        "severity": p["severity"] if p["severity"] in Severity.values else "",
        "dispatch_overdue": p["dispatch_overdue"] == "1",
        "extensions": p["extensions"] == "1",
        "duplicates": p["duplicates"] == "1",
    }


def queue_cases(user, params):
    """The queue's list for these address parameters (the page's rows, before its ordering)."""
    filtered = filter_cases(case_list(user), **filter_args(user, params))
    return filter_cases(filtered, status=str(params.get("status", "") or "") or "open")


def filter_cases(
    cases,
    *,
    status="",
    area="",
    overdue=None,
    department="",
    category="",
    channel="",
    due_today=False,
    returns_waiting=False,
    q="",
    reported_from=None,
    reported_to=None,
    commander=None,
    severity="",
    dispatch_overdue=False,
    extensions=False,
    duplicates=False,
):
    if status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif status == "finished":  # what the closure rate counts as finished (no tab: the same as closed)
        cases = cases.filter(status__in=FINISHED_STATUSES)
    elif status and status != "all":
        cases = cases.filter(status=status)
    if reported_from:  # dates, Asia/Shanghai: the links from the dashboards' figures
        cases = cases.filter(created_at__date__gte=reported_from)
    if reported_to:
        cases = cases.filter(created_at__date__lte=reported_to)
    if area:
        path = Area.objects.filter(code=area).values_list("path", flat=True).first()
        cases = cases.filter(under("area_path", path)) if path else cases.none()
    if overdue is not None:
        cases = cases.filter(is_overdue=overdue)
    if department:  # the cases the department answers for: a return the dispatcher accepted is not one
        answers_for = (
            Assignment.objects.filter(case=OuterRef("pk"), department__code=department)
            .exclude(status=AssignmentStatus.CANCELLED)
            .exclude(status=AssignmentStatus.RETURNED, return_decision=ReturnDecision.ACCEPTED)
        )
        cases = cases.filter(Exists(answers_for))
    if category:
        kind, _sep, code = category.rpartition(":")
        cases = cases.filter(Q(category__code=code) | Q(category__parent__code=code))
        if kind:
            cases = cases.filter(category__kind=kind)
    if channel:
        cases = cases.filter(channel=channel)
    if due_today:
        end = timezone.localtime().replace(hour=23, minute=59, second=59)
        cases = cases.filter(
            Q(status__in=(Status.REPORTED, Status.REGISTERED), dispatch_deadline__lte=end)
            | Exists(Assignment.objects.filter(case=OuterRef("pk"), status__in=ACTIVE_ASSIGNMENT, deadline__lte=end))
        ).filter(status__in=OPEN_STATUSES)
    if returns_waiting:  # a department returned it and the dispatcher has not decided yet
        cases = cases.filter(Exists(Assignment.objects.filter(RETURN_WAITING, case=OuterRef("pk"))))
    if commander is not None:  # what waits for this dispatcher: their areas at the level they command
        cases = cases.filter(roles.commanded_q(commander))
    if severity:
        cases = cases.filter(severity=severity)
    if dispatch_overdue:  # not dispatched in time (the deadline checker marked it), still waiting
        cases = cases.filter(status__in=WAITING_DISPATCH, is_overdue=True)
    if extensions:  # a department asked for more time and the dispatcher has not answered
        cases = cases.filter(
            Exists(Assignment.objects.filter(case=OuterRef("pk"), extension_status=ExtensionStatus.REQUESTED))
        )
    if duplicates:  # flagged as a likely duplicate of a case still open: merge or keep (before dispatch)
        cases = cases.filter(
            status__in=WAITING_DISPATCH, duplicate_of__isnull=False, duplicate_of__status__in=OPEN_STATUSES
        )
    if q:
        cases = cases.filter(Q(number__startswith=q) | Q(tracking_number=q.upper()) | Q(description__contains=q))
    return cases


def status_counts(cases) -> dict:
    counts = dict(cases.values_list("status").annotate(n=Count("id")).order_by())
    counts["all"] = sum(counts.values())
    counts["open"] = sum(counts.get(s, 0) for s in OPEN_STATUSES)
    counts["finished"] = sum(counts.get(s, 0) for s in FINISHED_STATUSES)
    counts["overdue"] = cases.filter(status__in=OPEN_STATUSES, is_overdue=True).count()
    return counts


def department_queue(user):
    """Assignments of the user's departments that still need work, the most urgent first."""
    departments = roles.handler_department_ids(user)
    return (
        Assignment.objects.filter(department_id__in=departments, status__in=ACTIVE_ASSIGNMENT)
        .select_related("case", "case__area", "department")
        .order_by("deadline")
    )


def end_of_today():
    return timezone.localtime().replace(hour=23, minute=59, second=59, microsecond=999999)


# The department queue's filters (?show=…): what waits for the department, by kind of work.
DEPARTMENT_FILTERS = {
    "pending": lambda: Q(status=AssignmentStatus.PENDING),  # to accept
    "due_today": lambda: Q(overdue_at__isnull=True, deadline__lte=end_of_today()),  # not yet overdue
    "overdue": lambda: Q(overdue_at__isnull=False),
    "rework": lambda: Q(rework_count__gt=0),  # sent back by a failed verification (返工)
}


def filter_assignments(assignments, show=""):
    return assignments.filter(DEPARTMENT_FILTERS[show]()) if show in DEPARTMENT_FILTERS else assignments


def public_view(case: Case) -> dict:
    events = case.events.filter(is_public=True)  # internal steps (returns, extensions…) are not
    return {
        "tracking_number": case.tracking_number,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "outcome": case.outcome,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "satisfaction": case.satisfaction,
        "events": [
            # Only the step and the department's feedback: notes may name people, so dispatchers'
            # notes stay internal; feedback and outcome texts are written for the public.
            {
                "action": e.action,
                "label": str(e.label),
                "to_status": e.to_status,
                "note": e.note if e.action in {"feedback", "close", "reject"} else "",
                "created_at": e.created_at,
            }
            for e in events
        ],
    }
