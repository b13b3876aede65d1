"""Deadline rules: the DeadlineRule row for a matter item and severity, or the defaults."""

from dataclasses import dataclass

from .. import refs
from ..models import (
    MatterItem,
    Severity,
)

# Used when no DeadlineRule row matches: (hours to dispatch, hours to handle).
DEFAULT_LIMITS = {Severity.NORMAL: (4, 48), Severity.IMPORTANT: (2, 24), Severity.URGENT: (0.5, 4)}


@dataclass(frozen=True)
class Rule:
    dispatch_hours: float
    handle_hours: float
    working_hours: bool = False
    remind_before_hours: float = 24
    escalate_when_overdue: bool = True


def rule_for(matter_item: MatterItem | None, severity: str) -> Rule:
    row = refs.deadline_rule(matter_item.pk if matter_item else None, severity)
    if row is None:
        dispatch, handle = DEFAULT_LIMITS[severity]
        return Rule(dispatch, handle, remind_before_hours=min(24, handle / 4))
    return Rule(
        row.dispatch_hours, row.handle_hours, row.working_hours, row.remind_before_hours, row.escalate_when_overdue
    )
