"""Steps that end a case or reopen it: verification, close, evaluation, reopen."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import roles as R
from ..models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    Case,
    Channel,
    Outcome,
    Status,
)
from .common import Step, _actor_role, _append_event, _notify_department, _require, _tell_reporters
from .errors import TransitionNotAllowed


def _step_verify_pass(case, user, *, note="", **_params):
    case.outcome, case.closed_at = Outcome.FIXED, timezone.now()
    step = Step(Status.CLOSED, note)
    step.notifications += [_tell_reporters, open_callback]
    return step


def open_callback(case):
    """A citizen's case closed: the hotline desk's callback (回访), in the closing's transaction."""
    from wangge.callbacks.actions import open_for_closed_case  # callbacks sits above cases

    open_for_closed_case(case)


def _callback_rated(case):
    from wangge.callbacks.actions import case_rated

    case_rated(case)


def _step_verify_fail(case, user, *, note="", **_params):
    text = _require(note, "note", _("Say what is still wrong."))
    redo = list(case.assignments.filter(status=AssignmentStatus.DONE).select_related("department"))
    # Back to work, and one more rework (返工) for each department's evaluation.
    Assignment.objects.filter(pk__in=[a.pk for a in redo]).update(
        status=AssignmentStatus.ACCEPTED, done_at=None, rework_count=F("rework_count") + 1
    )

    def tell_departments(case):
        for a in redo:
            _notify_department(
                a.department_id,
                case,
                _("Case %(n)s is not fixed yet") % {"n": case.number},
                text[:150],
                dedupe_key=f"assignment:{a.pk}:verify_fail:{case.version}",
            )

    step = Step(Status.HANDLING, text, {"departments": [a.department.code for a in redo]})
    step.notifications.append(tell_departments)
    return step


CLOSING_OUTCOMES = (Outcome.NOT_RESPONSIBLE, Outcome.CANNOT_FIX, Outcome.WITHDRAWN)


def _step_close(case, user, *, outcome="", note="", reason="", **_params):
    if outcome not in CLOSING_OUTCOMES:
        raise ValidationError(
            {"outcome": _("Choose one of: %(o)s.") % {"o": ", ".join(str(o.value) for o in CLOSING_OUTCOMES)}}
        )
    text = _require(note or reason, "note", _("Say why the case is closed without a fix."))
    case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).update(status=AssignmentStatus.CANCELLED)
    case.outcome, case.outcome_reason, case.closed_at = outcome, text, timezone.now()
    step = Step(Status.CLOSED, text, {"outcome": outcome})
    step.notifications += [_tell_reporters, open_callback]
    return step


def _step_evaluate(case, user, *, satisfaction=None, rating=None, note="", **_params):
    kinds = R.actor_kinds(user, case)
    data = {}
    if satisfaction is not None and (R.REPORTER in kinds):
        score = _score(satisfaction, "satisfaction")
        if case.satisfaction is not None:  # the reporter's word on the outcome is given once
            raise TransitionNotAllowed(_("This case has already been rated."))
        case.satisfaction = score
        case.satisfaction_comment = note[:1000]
        data["satisfaction"] = case.satisfaction
    elif rating is not None and R.DISPATCHER in kinds:
        case.dispatcher_rating = _score(rating, "rating")
        data["rating"] = case.dispatcher_rating
    else:
        field_name = "satisfaction" if R.REPORTER in kinds else "rating"
        raise ValidationError({field_name: _("Give a score from 1 to 5.")})
    step = Step(Status.CLOSED, note, data, public=False)
    if "satisfaction" in data:
        step.notifications.append(_callback_rated)
    return step


def evaluate_by_tracking_number(tracking_number: str, satisfaction, note: str = "") -> Case:
    """The citizen's rating from the tracking page (no account): once per case, when closed."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(tracking_number=tracking_number).first()
        if case is None:
            raise Case.DoesNotExist
        if case.status != Status.CLOSED:
            raise TransitionNotAllowed(_("The case can be rated once it is closed."))
        if case.satisfaction is not None:
            raise TransitionNotAllowed(_("This case has already been rated."))
        score = _score(satisfaction, "satisfaction")
        Case.objects.filter(pk=case.pk).update(
            satisfaction=score, satisfaction_comment=note[:1000], version=F("version") + 1, updated_at=timezone.now()
        )
        _append_event(
            case,
            "evaluate",
            case.status,
            case.status,
            None,
            "reporter",
            note=note[:1000],
            data={"satisfaction": score},
            public=False,
        )
        case.refresh_from_db()
        _callback_rated(case)
        return case


def _score(value, field_name) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({field_name: _("Give a score from 1 to 5.")})
    return score


def _check_reopen(case, user):
    if case.closed_at and timezone.now() - case.closed_at > timedelta(days=settings.CASE_REOPEN_DAYS):
        raise TransitionNotAllowed(
            _("A case can be reopened within %(d)s days of closing.") % {"d": settings.CASE_REOPEN_DAYS}
        )


def _step_reopen(case, user, *, note="", **_params):
    _check_reopen(case, user)
    text = _require(note, "note", _("Say why the case is reopened."))
    case.outcome, case.outcome_reason, case.closed_at, case.handled_on_site = "", "", None, False
    return Step(Status.REGISTERED, text)


def answer_on_the_spot(case: Case, user, note: str) -> Case:
    """A hotline consultation (咨询) answered during the call: closed at once with the outcome
    "answered", never dispatched. Only the operator who filed it, while nobody has touched it."""
    text = _require(note, "answer", _("Write down the answer given to the caller."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.channel != Channel.HOTLINE or case.reporter_id != user.pk:
            raise TransitionNotAllowed(_("Only the hotline operator who took the call can answer it on the spot."))
        if case.status != Status.REPORTED:
            raise TransitionNotAllowed(_("This case is already being handled."))
        now = timezone.now()
        Case.objects.filter(pk=case.pk).update(
            status=Status.CLOSED,
            outcome=Outcome.ANSWERED,
            outcome_reason=text[:1000],
            closed_at=now,
            updated_at=now,
            version=F("version") + 1,
        )
        _append_event(
            case, "answer", case.status, Status.CLOSED, user, _actor_role(user), note=text, data={"outcome": "answered"}
        )
        case.refresh_from_db()
        return case
