"""The transition table (action → from states → actor kinds) and transition(), which runs one."""

import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.notify import actions as notify
from wangge.worktime.calendar import deadline_after

from .. import roles as R
from ..models import (
    ACTION_LABELS,
    ACTIVE_ASSIGNMENT,
    COMMAND_LEVELS,
    OPEN_STATUSES,
    RETURN_WAITING,
    AssignmentStatus,
    Case,
    CaseActionKey,
    CasePhoto,
    ExtensionStatus,
    Status,
)
from ..photos import resolve_for_action
from .closing import _check_reopen, _step_close, _step_evaluate, _step_reopen, _step_verify_fail, _step_verify_pass
from .common import _actor_role, _append_event, case_payload
from .errors import IdempotencyConflict, NotPermitted, StaleVersion, TransitionNotAllowed
from .handling import (
    _step_accept,
    _step_decide_extension,
    _step_decide_return,
    _step_dispatch,
    _step_feedback,
    _step_recall,
    _step_request_extension,
    _step_return,
)
from .rules import rule_for
from .triage import _step_escalate, _step_handle_on_site, _step_merge, _step_register, _step_reject

# ---------------------------------------------------------------------------------------------
# Transitions


@dataclass(frozen=True)
class Transition:
    action: str
    from_statuses: tuple[str, ...]
    actors: frozenset[str]

    @property
    def label(self):
        return ACTION_LABELS[self.action]


D, G, H, P, S = R.DISPATCHER, R.GRID_MANAGER, R.HANDLER, R.REPORTER, R.SYSTEM
TRANSITIONS = {
    t.action: t
    for t in [
        Transition("register", (Status.REPORTED,), frozenset({D, S})),  # S: routing's auto-dispatch
        Transition("reject", (Status.REPORTED, Status.REGISTERED), frozenset({D})),
        Transition("handle_on_site", (Status.REPORTED, Status.REGISTERED), frozenset({G})),
        Transition("dispatch", (Status.REPORTED, Status.REGISTERED, Status.HANDLING), frozenset({D, S})),
        Transition("recall", (Status.HANDLING,), frozenset({D})),
        Transition("accept", (Status.HANDLING,), frozenset({H})),
        Transition("return", (Status.HANDLING,), frozenset({H})),
        Transition(
            "decide_return", (Status.REGISTERED, Status.HANDLING, Status.VERIFYING, Status.CLOSED), frozenset({D})
        ),
        Transition("request_extension", (Status.HANDLING,), frozenset({H})),
        Transition("decide_extension", (Status.HANDLING,), frozenset({D})),
        Transition("feedback", (Status.HANDLING,), frozenset({H})),
        Transition("escalate", OPEN_STATUSES, frozenset({D, S})),
        Transition("verify_pass", (Status.VERIFYING,), frozenset({G})),
        Transition("verify_fail", (Status.VERIFYING,), frozenset({G})),
        Transition("close", OPEN_STATUSES, frozenset({D})),
        Transition("evaluate", (Status.CLOSED,), frozenset({D, P})),
        Transition("reopen", (Status.CLOSED,), frozenset({D, S})),  # S: a callback's "not resolved"
        Transition("merge", (Status.REPORTED, Status.REGISTERED), frozenset({D})),
    ]
}


def allowed_actions(user, case: Case) -> list[Transition]:
    """The actions this user may take on this case now (the page shows exactly these)."""
    kinds = R.actor_kinds(user, case)
    result = []
    for t in TRANSITIONS.values():
        if case.status in t.from_statuses and t.actors & kinds:
            try:
                STEP_CHECKS.get(t.action, lambda c, u: None)(case, user)
            except (TransitionNotAllowed, NotPermitted):
                continue
            result.append(t)
    return result


def transition(
    case: Case | int, user, action: str, *, version: int | None, idempotency_key: str = "", **params
) -> Case:
    """Carry out one action of the table. version: what the user saw; None only for the system.
    idempotency_key: the client's key for this request; the same request sent again (its answer was
    lost) answers with the case and acts no second time, even though the version has moved since."""
    transition_ = TRANSITIONS.get(action)
    if transition_ is None:
        raise ValidationError({"action": _("Unknown action %(a)s.") % {"a": action}})
    case_id = case.pk if isinstance(case, Case) else case
    key = _scoped_key(user, idempotency_key)
    digest = _request_digest(case_id, action, version, params) if key else ""
    try:
        return _transition(case_id, user, transition_, version, key, digest, params)
    except IntegrityError:
        # The key was taken meanwhile (the row lock is per case: the same key on another case).
        if key and CaseActionKey.objects.filter(key=key).exists():
            raise IdempotencyConflict() from None
        raise


def _scoped_key(user, key: str) -> str:
    """Keys are per client, like those of reports: an account's own, or the system's."""
    if not key:
        return ""
    if len(key) > 150:
        raise ValidationError({"idempotency_key": _("At most 150 characters.")})
    return f"u{user.pk}:{key}" if user is not None else f"system:{key}"


def _request_digest(case_id, action, version, params) -> str:
    """A fingerprint of the request: a key sent again must come with the same one."""
    fields = {**params, "photo_ids": sorted(str(i) for i in params.get("photo_ids") or [])}
    request = {"case": case_id, "action": action, "version": version, "params": fields}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _transition(case_id, user, transition_, version, key, digest, params) -> Case:
    action = transition_.action
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if key and (done := CaseActionKey.objects.filter(key=key).first()):
            if (done.case_id, done.digest) != (case.pk, digest):
                raise IdempotencyConflict()
            return case  # done already: the same answer, no second event
        if version is not None and case.version != version:
            raise StaleVersion(case.version)
        kinds = {R.SYSTEM} if user is None else R.actor_kinds(user, case)
        if not transition_.actors & kinds:
            raise NotPermitted(_("Your role cannot %(a)s this case.") % {"a": str(transition_.label).lower()})
        if case.status not in transition_.from_statuses:
            raise TransitionNotAllowed(
                _("A case that is %(s)s cannot be %(a)s.")
                % {"s": case.get_status_display(), "a": str(transition_.label).lower()}
            )
        from_status = case.status
        # Photos come only from the actor's own uploads or this case: never another case's evidence.
        photos = resolve_for_action(case, user, params.get("photo_ids"))
        step = STEPS[action](case, user, **params)
        now = timezone.now()
        if step.to_status == Status.REGISTERED and from_status not in (Status.REPORTED, Status.REGISTERED):
            # Back at the desk (reopened, or every department returned it): a new dispatch is due,
            # with a fresh deadline, not the one the first dispatch already met or missed.
            rule = rule_for(case.matter_item, case.severity)
            case.dispatch_deadline = deadline_after(now, rule.dispatch_hours, working_hours=rule.working_hours)
        updated = Case.objects.filter(pk=case.pk, version=case.version).update(
            status=step.to_status,
            version=F("version") + 1,
            updated_at=now,
            **_case_fields(case),
        )
        if updated != 1:  # belt and braces: the row lock should make this impossible
            raise StaleVersion(Case.objects.get(pk=case.pk).version)
        event = _append_event(
            case,
            action,
            from_status,
            step.to_status,
            user,
            params.get("as_role") or _actor_role(user),
            note=step.note,
            data=step.data,
            public=step.public,
            lat=params.get("lat"),
            lng=params.get("lng"),
        )
        if photos:
            CasePhoto.objects.filter(pk__in=[p.pk for p in photos]).update(case=case, event=event)
        if key:
            CaseActionKey.objects.create(key=key, digest=digest, case=case, event=event)
        case.refresh_from_db()
        for callback in step.notifications:
            callback(case)
        notify.emit_event(f"case.{action}", lambda: case_payload(case))
        return case


# Fields a step may change on the case object before transition() writes it.
STEP_FIELDS = (
    "outcome",
    "outcome_reason",
    "severity",
    "category_id",
    "matter_item_id",
    "command_level",
    "merged_into_id",
    "dispatched_at",
    "closed_at",
    "handled_on_site",
    "satisfaction",
    "satisfaction_comment",
    "dispatcher_rating",
    "is_overdue",
    "dispatch_deadline",
)


def _case_fields(case: Case) -> dict:
    return {f: getattr(case, f) for f in STEP_FIELDS}


STEPS = {
    "register": _step_register,
    "reject": _step_reject,
    "handle_on_site": _step_handle_on_site,
    "dispatch": _step_dispatch,
    "recall": _step_recall,
    "accept": _step_accept,
    "return": _step_return,
    "decide_return": _step_decide_return,
    "request_extension": _step_request_extension,
    "decide_extension": _step_decide_extension,
    "feedback": _step_feedback,
    "escalate": _step_escalate,
    "verify_pass": _step_verify_pass,
    "verify_fail": _step_verify_fail,
    "close": _step_close,
    "evaluate": _step_evaluate,
    "reopen": _step_reopen,
    "merge": _step_merge,
}


def _check_assignment_state(statuses, unless_extension_waiting=False):
    def check(case, user):
        departments = R.handler_department_ids(user)
        mine = case.assignments.filter(department_id__in=departments, status__in=statuses)
        if unless_extension_waiting:
            mine = mine.exclude(extension_status=ExtensionStatus.REQUESTED)
        if not mine.exists():
            raise TransitionNotAllowed()

    return check


def _check_extension_waiting(case, user):
    if not case.assignments.filter(extension_status=ExtensionStatus.REQUESTED).exists():
        raise TransitionNotAllowed()


def _check_return_waiting(case, user):
    if not case.assignments.filter(RETURN_WAITING).exists():
        raise TransitionNotAllowed()


def _check_recallable(case, user):
    active = list(case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).values_list("status", flat=True))
    if not active or any(status != AssignmentStatus.PENDING for status in active):
        raise TransitionNotAllowed()


def _check_escalate(case, user):
    if case.command_level == COMMAND_LEVELS[-1]:
        raise TransitionNotAllowed()


# Pre-checks that decide whether an action is offered at all (the page shows only these).
STEP_CHECKS = {
    "accept": _check_assignment_state([AssignmentStatus.PENDING]),
    "return": _check_assignment_state(ACTIVE_ASSIGNMENT),
    "request_extension": _check_assignment_state([AssignmentStatus.ACCEPTED], unless_extension_waiting=True),
    "feedback": _check_assignment_state([AssignmentStatus.ACCEPTED]),
    "decide_extension": _check_extension_waiting,
    "decide_return": _check_return_waiting,
    "escalate": _check_escalate,
    "recall": _check_recallable,
    "reopen": _check_reopen,
}
