"""Appeals (申诉): a department or grid manager contests one case counted against it in a period,
within EVALUATION_APPEAL_DAYS of the period's close; the command center over the case accepts
(the case leaves the subject's figures, or is counted for the department that should have had it)
or refuses, with a reason. Both steps are written to the case's trail."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import DEPARTMENT_ROLES, Role
from wangge.accounts.resolve import resolve_by, resolve_one
from wangge.accounts.scope import is_admin, restrict
from wangge.cases import roles as case_roles
from wangge.cases.actions.common import _actor_role, _append_event
from wangge.cases.actions.errors import NotPermitted
from wangge.cases.models import CasePhoto
from wangge.cases.photos import resolve_for_action
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction

from . import notices
from .actions import Conflict, appeal_deadline
from .compute import is_counted
from .models import Appeal, AppealStatus, Report, ReportStatus, SubjectType
from .period import parse

DECIDER_ROLES = {Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER}


def subjects_of_user(user) -> list[tuple[str, str]]:
    """(subject type, subject key) pairs the user may appeal for: their departments, themselves."""
    out = []
    for m in user.membership_list:
        if m.department_id and m.role in DEPARTMENT_ROLES:
            out.append((SubjectType.DEPARTMENT, m.department.code))
        if m.role == Role.GRID_MANAGER:
            out.append((SubjectType.GRID_MANAGER, str(user.pk)))
    return list(dict.fromkeys(out))


def may_decide(user) -> bool:
    return is_admin(user) or user.has_role(*DECIDER_ROLES)


def decidable_appeals(user):
    """Appeals this user may decide: dispatchers over the case's area (and administrators)."""
    if not may_decide(user):
        return Appeal.objects.none()
    return restrict(Appeal.objects.all(), user, "case_path")


def file_appeal(user, *, subject_type, subject_key, case_id, period_key, reason, photo_ids=()) -> Appeal:
    period = parse(period_key)
    today = timezone.localdate()
    if today < period.start:
        raise ValidationError({"period": _("The period has not started.")})
    if today > appeal_deadline(period):
        raise ValidationError(
            {"period": _("Appeals for %(p)s closed on %(d)s.") % {"p": period.key, "d": appeal_deadline(period)}}
        )
    if (subject_type, str(subject_key)) not in subjects_of_user(user):
        raise NotPermitted(_("You may appeal only for your own department or for yourself."))
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": _("Say why the case should not count against you.")})
    case = resolve_one(case_roles.visible_cases(user), case_id, "case", message=_("Unknown case."))
    if not is_counted(subject_type, period, str(subject_key), case.pk):
        raise ValidationError({"case": _("This case is not counted for you in %(p)s.") % {"p": period.key}})
    # The filer's own unattached uploads (or this case's loose photos), never another case's evidence.
    photos = resolve_for_action(case, user, photo_ids)
    department = worker = None
    if subject_type == SubjectType.DEPARTMENT:
        department = next(
            m.department for m in user.membership_list if m.department_id and m.department.code == subject_key
        )
    else:
        worker = user
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                subject_type=subject_type,
                department=department,
                worker=worker,
                case=case,
                case_path=case.area_path,
                period_key=period.key,
                period_start=period.start,
                period_end=period.end,
                reason=text[:4000],
                filed_by=user,
            )
            appeal.photos.set(photos)
            event = _append_event(
                case,
                "appeal",
                case.status,
                case.status,
                user,
                _actor_role(user),
                note=text[:1000],
                data={"appeal": appeal.pk, "period": period.key, "subject": str(subject_key)},
                public=False,
            )
            if photos:  # on the case's trail with the appeal: whoever sees the case (the deciders) sees them
                CasePhoto.objects.filter(pk__in=[p.pk for p in photos]).update(case=case, event=event)
            record_change(
                appeal,
                ChangeAction.CREATE,
                acting_user=user,
                after={"case": case.pk, "period": period.key, "subject": str(subject_key)},
            )
            notices.appeal_filed(appeal, case_roles.command_users(case))
    except IntegrityError as exc:
        raise ValidationError(
            {"case": _("You have already appealed this case for %(p)s.") % {"p": period.key}}
        ) from exc
    return appeal


def decide_appeal(user, appeal_id, *, accept, note, reattribute_to=None) -> Appeal:
    if accept is None:
        raise ValidationError({"accept": _("Accept or refuse.")})
    text = (note or "").strip()
    if not text:
        raise ValidationError({"note": _("Say why.")})
    with transaction.atomic():
        appeal = resolve_one(
            decidable_appeals(user).select_for_update(), appeal_id, "appeal", message=_("Unknown appeal.")
        )
        if appeal.status != AppealStatus.PENDING:
            raise Conflict(_("This appeal was already decided (%(s)s).") % {"s": appeal.get_status_display()})
        target = None
        if accept and reattribute_to:
            if appeal.subject_type != SubjectType.DEPARTMENT:
                raise ValidationError({"reattribute_to": _("Only a department's case can be counted for another.")})
            message = _("Unknown department, or not one that serves this case's area.")
            serving = case_roles.dispatchable_departments(appeal.case)
            target = resolve_by(serving, [reattribute_to], "reattribute_to", attr="code", message=message)[0]
            if target.pk == appeal.department_id:
                raise ValidationError({"reattribute_to": _("Choose another department than the one appealing.")})
        appeal.status = AppealStatus.ACCEPTED if accept else AppealStatus.REFUSED
        appeal.reattribute_to = target
        appeal.decision_note, appeal.decided_by, appeal.decided_at = text[:4000], user, timezone.now()
        appeal.save()
        case = appeal.case
        _append_event(
            case,
            "appeal_decision",
            case.status,
            case.status,
            user,
            _actor_role(user),
            note=text[:1000],
            data={"appeal": appeal.pk, "accepted": bool(accept), "reattribute_to": target.code if target else None},
            public=False,
        )
        record_change(
            appeal,
            ChangeAction.UPDATE,
            acting_user=user,
            before={"status": AppealStatus.PENDING},
            after={"status": appeal.status, "reattribute_to": target.code if target else None},
        )
        if accept:
            # A stored draft of the period no longer matches the trail as the appeal now reads it (its
            # figures would disagree with their case lists, and publishing it would freeze that): drop
            # it, so the period shows live until it is computed again. Published reports stay frozen.
            Report.objects.filter(
                scheme__subject_type=appeal.subject_type, period_key=appeal.period_key, status=ReportStatus.DRAFT
            ).delete()
        notices.appeal_decided(appeal)
    return appeal
