"""Every change to a callback: opened when a citizen's case closes (called by the cases' closing steps,
inside their transaction), marked done when the citizen rates the case, the operator's result (with the
case reopened on "not resolved"), and the worker's overdue marks."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.actions import TransitionNotAllowed, transition
from wangge.cases.actions.common import _actor_role, _append_event
from wangge.cases.models import Case, Status

from .models import CallbackTask, Result, State
from .roles import CITIZEN_CHANNELS

NOTE_MAX = 1000


def open_for_closed_case(case: Case) -> CallbackTask | None:
    """The callback of this closing (created once: a second call finds it). Only citizens' cases; one
    without a number cannot be called."""
    if case.channel not in CITIZEN_CHANNELS or case.status != Status.CLOSED or case.closed_at is None:
        return None
    task = CallbackTask.objects.filter(case=case, case_closed_at=case.closed_at).first()
    if task is not None:
        return task
    now = timezone.now()
    task = CallbackTask(case=case, case_closed_at=case.closed_at, due_at=now + _hours(settings.CALLBACK_DUE_HOURS))
    # A rating already on the case is of an earlier closing (a rating needs a closed case, and the case
    # closes now): this closing is still to be asked about. A rating given from now on closes the task.
    if not case.reporter_phone_encrypted:
        task.state, task.result, task.done_at = State.DONE, Result.NO_NUMBER, now
    task.save()
    return task


def case_rated(case: Case) -> None:
    """The citizen rated the case themselves (tracking page, portal): the open callback needs no call."""
    CallbackTask.objects.filter(case=case, state=State.OPEN).update(
        state=State.DONE, result=Result.RATED, satisfaction=case.satisfaction, done_at=timezone.now()
    )


def record_result(task_id: int, user, *, reached=None, resolved=None, satisfaction=None, note="", reopen=False):
    """The operator's result of one call. Not reached: one more attempt, tried again later, closed as
    unreachable after CALLBACK_MAX_ATTEMPTS. Reached: resolved yes/no and satisfaction 1–5 are required;
    "not resolved" with reopen reopens the case (within CALLBACK_REOPEN_DAYS), the citizen's words its reason."""
    reached = _boolean(reached, "reached", required=True)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("At most %(n)s characters.") % {"n": NOTE_MAX}})
    errors = {}
    if reached:
        resolved = _boolean(resolved, "resolved", required=True, errors=errors)
        satisfaction = _score(satisfaction, errors)
        reopen = bool(_boolean(reopen, "reopen", errors=errors))
        if reopen and resolved:
            errors["reopen"] = _("Only a case the citizen says is not resolved is reopened.")
        if reopen and not note:
            errors["note"] = _("Write down the citizen's words: they are the reason the case is reopened.")
    else:
        resolved = satisfaction = None
        reopen = False
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = CallbackTask.objects.select_for_update().select_related("case").get(pk=task_id)
        case = task.case
        if case.status != Status.CLOSED:
            raise TransitionNotAllowed(
                _("A callback is made on a closed case; this one is %(s)s.") % {"s": case.get_status_display()}
            )
        if task.state != State.OPEN:
            raise TransitionNotAllowed(_("This callback is done already."))
        now = timezone.now()
        if reopen and now - case.closed_at > timedelta(days=settings.CALLBACK_REOPEN_DAYS):
            raise ValidationError(
                {
                    "reopen": _("A callback can reopen a case within %(d)s days of its closing.")
                    % {"d": settings.CALLBACK_REOPEN_DAYS}
                }
            )
        task.attempts += 1
        task.note = note
        if reached:
            task.state, task.result, task.done_at, task.done_by = State.DONE, Result.REACHED, now, user
            task.resolved, task.satisfaction, task.next_try_at = resolved, satisfaction, None
        elif task.attempts >= settings.CALLBACK_MAX_ATTEMPTS:
            task.state, task.result, task.done_at, task.done_by = State.DONE, Result.UNREACHABLE, now, user
            task.next_try_at = None
        else:
            task.next_try_at = now + _hours(settings.CALLBACK_RETRY_HOURS)
        task.reopened = reopen
        task.save()
        data = {"result": task.result or "not_reached", "attempt": task.attempts}
        if reached:
            data.update(resolved=resolved, satisfaction=satisfaction)
        # Not public: the note is a phone call's words; the citizen sees the reopening itself.
        _append_event(
            case, "callback", case.status, case.status, user, _actor_role(user), note=note, data=data, public=False
        )
        if reopen:
            transition(
                case.pk,
                None,
                "reopen",
                version=None,
                note=_("Callback: the citizen says it is not resolved. %(w)s") % {"w": note},
            )
        return task


def flag_overdue(now=None) -> int:
    """Mark the open callbacks past their due time (once each): the queue and the workbench show them."""
    now = now or timezone.now()
    return CallbackTask.objects.filter(state=State.OPEN, due_at__lt=now, overdue_at__isnull=True).update(overdue_at=now)


def may_reopen(task: CallbackTask) -> bool:
    closed = task.case.closed_at
    return closed is not None and timezone.now() - closed <= timedelta(days=settings.CALLBACK_REOPEN_DAYS)


def _hours(h: float) -> timedelta:
    return timedelta(hours=h)


TRUE, FALSE = {"1", "true", "yes", "on", True}, {"0", "false", "no", "off", False}


def _boolean(value, field, *, required=False, errors=None):
    if isinstance(value, str):
        value = value.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    if value in (None, "") and not required:
        return None
    message = _("Choose yes or no.")
    if errors is None:
        raise ValidationError({field: message})
    errors[field] = message
    return None


def _score(value, errors):
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = 0
    if isinstance(value, bool) or not 1 <= score <= 5:
        errors["satisfaction"] = _("Give a score from 1 to 5.")
        return None
    return score
