"""Steps before dispatch: register, reject, handle on site, merge, escalate."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.resolve import resolve_one

from .. import refs
from .. import roles as R
from ..models import (
    COMMAND_LEVELS,
    OPEN_STATUSES,
    MatterItem,
    Outcome,
    Severity,
    Status,
)
from .closing import open_callback
from .common import Step, _notify_dispatchers, _require, _tell_reporters
from .errors import TransitionNotAllowed


def classify(case, *, category=None, matter_item=None, severity=None, replace=False):
    """Set the case's matter item, category ("part:0305" as the pickers send it — 部件 and 事件 reuse
    codes — or a bare code) and severity, each checked; used by registering and by dispatching.
    replace: a matter item brings its own category even when the case had one (a reclassification:
    a routing suggestion taken at dispatch), else the reporter's category is kept."""
    if matter_item:
        item = MatterItem.objects.filter(code=matter_item, is_active=True).first()
        if item is None:
            raise ValidationError({"matter_item": _("Unknown matter item %(code)s.") % {"code": matter_item}})
        case.matter_item_id = item.pk
        case.category_id = item.category_id if replace else (case.category_id or item.category_id)
    current = case.category if case.category_id else None
    if category and not (current and category in (current.code, f"{current.kind}:{current.code}")):
        kind, _sep, code = category.rpartition(":")
        found = refs.category(code, kind)
        if found is None:
            raise ValidationError({"category": _("Unknown category %(code)s.") % {"code": category}})
        case.category_id = found.pk
    if severity:
        if severity not in Severity.values:
            raise ValidationError({"severity": _("Unknown severity %(s)s.") % {"s": severity}})
        case.severity = severity


def _step_register(case, user, *, note="", category=None, matter_item=None, severity=None, **_params):
    classify(case, category=category, matter_item=matter_item, severity=severity)
    return Step(Status.REGISTERED, note)


def _step_reject(case, user, *, note="", reason="", **_params):
    _require(note or reason, "note", _("Say why the case is rejected."))
    case.closed_at = timezone.now()
    step = Step(Status.REJECTED, note or reason, {"reason": reason})
    step.notifications.append(_tell_reporters)
    return step


def _step_handle_on_site(case, user, *, note="", photo_ids=None, **_params):
    _require(photo_ids, "photo_ids", _("A photo is needed as proof."))
    case.outcome, case.handled_on_site, case.closed_at = Outcome.HANDLED_ON_SITE, True, timezone.now()
    step = Step(Status.CLOSED, note)
    step.notifications += [_tell_reporters, open_callback]
    return step


def _step_escalate(case, user, *, note="", **_params):
    level = COMMAND_LEVELS.index(case.command_level)
    if level + 1 >= len(COMMAND_LEVELS):
        raise TransitionNotAllowed(_("The case is already with the city command center."))
    case.command_level = COMMAND_LEVELS[level + 1]
    step = Step(case.status, note, {"to_level": case.command_level}, public=False)
    step.notifications.append(
        lambda c: _notify_dispatchers(
            c, _("Case %(n)s escalated to you") % {"n": c.number}, f"case:{c.pk}:escalated:{c.command_level}"
        )
    )
    return step


def _step_merge(case, user, *, into=None, note="", **_params):
    target_id = _require(into, "into", _("Choose the case to merge into."))
    # The target must be a case this user can see (and still open): never one outside their reach.
    candidates = R.visible_cases(user).filter(status__in=OPEN_STATUSES).exclude(pk=case.pk)
    message = _("No open case %(id)s to merge into.") % {"id": target_id}
    target = resolve_one(candidates, target_id, "into", message=message)
    # Irreversible: like a rejection, the reason is kept on the trail (after the target check, so
    # a case out of reach is still named as such first).
    text = _require(note, "note", _("Say why the cases are the same."))
    case.merged_into_id = target.merged_into_id or target.pk
    case.closed_at = timezone.now()
    return Step(Status.MERGED, text, {"into": target.number})
