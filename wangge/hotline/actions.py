"""The desk's writes: a call filed as a case (a complaint to dispatch, or a consultation answered
on the spot), and a caller linked to an existing case. Each is one transaction."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wangge.accounts.resolve import resolve_one
from wangge.cases import actions as case_actions
from wangge.cases import channels
from wangge.cases.models import OPEN_STATUSES, Case, Channel
from wangge.cases.roles import memberships_of, visible_cases
from wangge.core import pii
from wangge.notify import actions as notify

from .models import CaseCaller

COMPLAINT, CONSULTATION = "complaint", "consultation"


@dataclass
class Call:
    """What the operator enters while on the phone."""

    phone: str
    description: str
    kind: str = COMPLAINT
    answer: str = ""  # a consultation: the answer given
    caller_name: str = ""
    lat: float | None = None
    lng: float | None = None
    area_code: str = ""
    address: str = ""
    category: str = ""
    matter_item: str = ""
    severity: str = ""
    idempotency_key: str = ""


def may_take_calls(user) -> bool:
    return user.is_authenticated and not channels.refusal(user, Channel.HOTLINE, "")


def _check_operator(user):
    if not may_take_calls(user):
        raise PermissionDenied(_("Only hotline operators take calls at the hotline desk."))


def _check_phone(phone: str) -> str:
    phone = pii.normalize_phone(phone)
    if not phone:
        raise ValidationError({"phone": _("Enter the caller's number.")})
    if not pii.is_valid_phone(phone):
        raise ValidationError({"phone": _("Not a valid phone number.")})
    return phone


def file_call(user, call: Call) -> Case:
    """A complaint becomes a hotline case waiting at the command level that covers the place (intake
    decides); a consultation is filed and closed at once as answered on the spot."""
    _check_operator(user)
    phone = _check_phone(call.phone)
    if call.kind not in (COMPLAINT, CONSULTATION):
        raise ValidationError({"kind": _("Choose a complaint or a consultation.")})
    area_code = call.area_code
    if call.kind == CONSULTATION:
        if not call.answer.strip():
            raise ValidationError({"answer": _("Write down the answer given to the caller.")})
        if call.lat is None and not area_code:
            # A question needs no place: it is counted where the desk answers.
            area_code = next((path.rstrip("/").rsplit("/", 1)[-1] for _r, path, _d in memberships_of(user) if path), "")
    report = case_actions.Report(
        description=call.description,
        channel=Channel.HOTLINE,
        lat=call.lat,
        lng=call.lng,
        area_code=area_code,
        address=call.address,
        category=call.category,
        matter_item=call.matter_item,
        severity=call.severity,
        reporter_name=call.caller_name,
        reporter_phone=phone,
        idempotency_key=call.idempotency_key,
    )
    with transaction.atomic():
        case, created = case_actions.report_case(report, user)
        if call.kind == CONSULTATION and created:
            case = case_actions.answer_on_the_spot(case, user, call.answer)
    return case


def link_caller(user, case_id, phone: str, name: str = "") -> CaseCaller:
    """The caller reports a problem already filed: they follow that case instead of a new one, and
    are told its outcome (tell_linked_callers). Linking the same number twice is one link."""
    _check_operator(user)
    phone = _check_phone(phone)
    if len(name) > 50:
        raise ValidationError({"name": _("At most 50 characters.")})
    case = resolve_one(visible_cases(user), case_id, "case")
    if case.status not in OPEN_STATUSES:
        raise ValidationError({"case": _("This case is finished; file a new one.")})
    digest = pii.phone_hash(phone)
    existing = CaseCaller.objects.filter(case=case, phone_hash=digest).first()
    if existing is not None or case.reporter_phone_hash == digest:
        return existing or CaseCaller(case=case, phone_hash=digest, phone_encrypted=case.reporter_phone_encrypted)
    try:
        with transaction.atomic():
            caller = CaseCaller.objects.create(
                case=case, phone_encrypted=pii.encrypt(phone), phone_hash=digest, name=name.strip(), linked_by=user
            )
            case_actions.record_event(
                case, "caller_linked", user, note=_("Caller %(p)s linked") % {"p": pii.mask_phone(phone)}
            )
    except IntegrityError:  # linked by another operator meanwhile
        return CaseCaller.objects.get(case=case, phone_hash=digest)
    return caller


def tell_linked_callers(case, text: str) -> None:
    """Outcome listener (cases.actions.OUTCOME_LISTENERS): every linked caller gets it by SMS."""
    for caller in CaseCaller.objects.filter(case=case):
        notify.notify_phone(caller.phone, text, dedupe_key=f"case:{case.pk}:caller:{caller.pk}:outcome:{case.version}")
