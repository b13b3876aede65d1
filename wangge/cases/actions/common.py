"""What intake, the steps and the deadlines share: the step result, the case event, notifications."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import User
from wangge.core.hotsql import insert
from wangge.notify import actions as notify

from .. import roles as R
from ..models import (
    Case,
    CaseEvent,
    Channel,
)


@dataclass
class Step:
    """What a step function hands back to transition()."""

    to_status: str
    note: str = ""
    data: dict = field(default_factory=dict)
    public: bool = True
    notifications: list = field(default_factory=list)  # callables(case): queue notifications


def _require(value, field_name, message):
    if value in (None, "", [], ()) or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field_name: message})
    return value


def _actor_role(user) -> str:
    if user is None:
        return "system"
    if not user.is_authenticated:
        return "public"
    roles = sorted(user.roles)
    return roles[0] if roles else ("admin" if user.is_superuser else "")


def _append_event(case, action, from_status, to_status, user, role, *, note="", data=None, public=True, **where):
    return insert(
        CaseEvent(
            case=case,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor=user if user is not None and user.is_authenticated else None,
            actor_name=str(user) if user is not None and user.is_authenticated else "",
            actor_role=role,
            note=note,
            data=data or {},
            is_public=public,
            lat=where.get("lat"),
            lng=where.get("lng"),
        )
    )


# ---------------------------------------------------------------------------------------------
# Notifications and payloads


def case_url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def case_payload(case: Case) -> dict:
    """What webhooks receive: no personal data."""
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "severity": case.severity,
        "area": case.area.code,
        "category": case.category.code if case.category_id else None,
        "command_level": case.command_level,
        "version": case.version,
    }


def _local_time(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _notify_department(department_id, case, subject, body, *, dedupe_key, sms=False):
    """Tell every handler of a department about a case (in-app, and by SMS when sms)."""
    for handler in R.department_handlers(department_id):
        notify.notify(handler, subject, body, url=case_url(case), sms=sms, dedupe_key=dedupe_key)


def _notify_dispatchers(case, subject, dedupe_key, *, fresh_key=False):
    """In-app only, so the user ids from the reference cache are enough (no query for the users)."""
    for user_id in R.command_user_ids(case):
        notify.notify(
            User(pk=user_id),
            subject,
            case.description[:150],
            url=case_url(case),
            dedupe_key=dedupe_key,
            fresh_key=fresh_key,
        )


def record_event(case, action, user, *, note="", data=None, public=False):
    """An event that changes no state (another app's step on the case, e.g. a caller linked), on the
    case's trail; inside the caller's transaction."""
    return _append_event(
        case, action, case.status, case.status, user, _actor_role(user), note=note, data=data, public=public
    )


# Other apps that owe someone the outcome (the hotline's linked callers): fn(case, text), called
# with every outcome the reporters are told, inside the closing transaction.
OUTCOME_LISTENERS = []


def _tell_reporters(case):
    """The outcome goes to the reporter and to everyone whose case was merged into this one."""
    text = _("Your report %(t)s: %(s)s. %(o)s") % {
        "t": case.tracking_number,
        "s": case.get_status_display(),
        "o": case.get_outcome_display() if case.outcome else "",
    }
    for reported in [case, *Case.objects.filter(merged_into=case)]:
        key = f"case:{reported.pk}:outcome:{case.version}"
        # A hotline case's reporter account is the operator who took the call: the caller is told.
        if reported.reporter_id and reported.channel != Channel.HOTLINE:
            reporter = reported.reporter
            # Citizens and landlords follow their reports in the portal (我的反映), others by tracking number.
            url = f"/me/reports/{reported.pk}/" if reporter.is_personal else f"/track/{reported.tracking_number}/"
            notify.notify(reporter, text, "", url=url, dedupe_key=key)
        elif reported.reporter_phone_encrypted:
            notify.notify_phone(reported.reporter_phone, text, dedupe_key=key)
    for listener in OUTCOME_LISTENERS:
        listener(case, text)
