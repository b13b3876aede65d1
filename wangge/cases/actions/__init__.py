"""Every change to a case: intake, the transitions of the closed loop (CJJ/T 106), and deadlines.

A transition is one row of TRANSITIONS (from which states, by which kind of actor) plus one step
function. transition() checks the version, the actor and the state, runs the step, bumps the
version, appends the event and queues notifications — all in one transaction.

The modules, by sub-domain: `intake` (a report becomes a case), `transitions` (the table and
transition()), the steps per phase (`triage` before dispatch, `handling` while departments work,
`closing` verification to evaluation), `deadlines` (the worker's minute run), and what they
share (`errors`, `rules`, `common`). Callers import from `wangge.cases.actions`.
"""

from .closing import CLOSING_OUTCOMES, answer_on_the_spot, evaluate_by_tracking_number
from .common import OUTCOME_LISTENERS, Step, case_payload, case_url, record_event
from .deadlines import DeadlineRun, check_deadlines
from .errors import (
    FilingRefused,
    IdempotencyConflict,
    NotPermitted,
    StaleVersion,
    TransitionNotAllowed,
    TransitionRefused,
)
from .intake import TRACKING_ALPHABET, Report, find_replay, likely_duplicate_id, report_case, report_digest
from .rules import DEFAULT_LIMITS, Rule, rule_for
from .transitions import STEP_CHECKS, STEP_FIELDS, STEPS, TRANSITIONS, Transition, allowed_actions, transition

__all__ = [
    "OUTCOME_LISTENERS",
    "answer_on_the_spot",
    "record_event",
    "CLOSING_OUTCOMES",
    "DEFAULT_LIMITS",
    "STEPS",
    "STEP_CHECKS",
    "STEP_FIELDS",
    "TRACKING_ALPHABET",
    "TRANSITIONS",
    "DeadlineRun",
    "FilingRefused",
    "IdempotencyConflict",
    "NotPermitted",
    "Report",
    "Rule",
    "StaleVersion",
    "Step",
    "Transition",
    "TransitionNotAllowed",
    "TransitionRefused",
    "allowed_actions",
    "case_payload",
    "case_url",
    "check_deadlines",
    "evaluate_by_tracking_number",
    "find_replay",
    "likely_duplicate_id",
    "report_case",
    "report_digest",
    "rule_for",
    "transition",
]
