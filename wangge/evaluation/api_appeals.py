"""The appeals (申诉) in the JSON API, on the evaluation's router (/api/v1/evaluation/appeals): file
one, list yours and those you decide, decide one. Every change through appeals.py."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from wangge.core.apitypes import ErrorOut, Id, errors

from . import actions, appeals
from .api import EvaluationSubjectOut, parse_period, require_use, router
from .models import Appeal, AppealStatus, SubjectType

APPEALABLE = (SubjectType.DEPARTMENT, SubjectType.GRID_MANAGER)


class EvaluationAppealIn(Schema):
    subject_type: str = Field(description="department or grid_manager")
    subject_key: str = Field(description="the department's code, or your user id")
    case: Id
    period: str
    reason: str
    photo_ids: list[Id] = []


class EvaluationDecisionIn(Schema):
    accept: bool | None = None
    note: str = ""
    reattribute_to: str = Field("", description="accepted: count the case for this department (its code)")


class EvaluationAppealOut(Schema):
    id: int
    subject_type: str
    subject: EvaluationSubjectOut
    case: int
    case_number: str | None
    period: str
    reason: str
    photo_ids: list[int]
    status: str
    status_label: str
    reattribute_to: str | None
    decision_note: str
    filed_by: str
    filed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    mine: bool
    may_decide: bool


def _own_appeals(user):
    """Appeals for the user's departments or for the user, and those the user filed."""
    q = Q(filed_by=user) | Q(worker=user)
    codes = [key for kind, key in appeals.subjects_of_user(user) if kind == SubjectType.DEPARTMENT]
    if codes:
        q |= Q(department__code__in=codes)
    return Appeal.objects.filter(q)


def _appeal_out(appeal: Appeal, own: set[int], decidable: set[int]) -> dict:
    if appeal.department_id:
        subject = {"key": appeal.department.code, "label": appeal.department.name}
    else:
        subject = {"key": str(appeal.worker_id), "label": appeal.worker.full_name or appeal.worker.username}
    decider = appeal.decided_by
    return {
        "id": appeal.pk,
        "subject_type": appeal.subject_type,
        "subject": subject,
        "case": appeal.case_id,
        "case_number": appeal.case.number,
        "period": appeal.period_key,
        "reason": appeal.reason,
        "photo_ids": [p.pk for p in appeal.photos.all()],
        "status": appeal.status,
        "status_label": str(appeal.get_status_display()),
        "reattribute_to": appeal.reattribute_to.code if appeal.reattribute_to_id else None,
        "decision_note": appeal.decision_note,
        "filed_by": (appeal.filed_by.full_name or appeal.filed_by.username) if appeal.filed_by_id else "",
        "filed_at": appeal.filed_at,
        "decided_by": (decider.full_name or decider.username) if decider else None,
        "decided_at": appeal.decided_at,
        "mine": appeal.pk in own,
        "may_decide": appeal.pk in decidable and appeal.status == AppealStatus.PENDING,
    }


def _appeals_out(user, rows) -> list[dict]:
    rows = list(rows)
    ids = [a.pk for a in rows]
    own = set(_own_appeals(user).filter(pk__in=ids).values_list("pk", flat=True))
    decidable = set(appeals.decidable_appeals(user).filter(pk__in=ids).values_list("pk", flat=True))
    return [_appeal_out(a, own, decidable) for a in rows]


APPEAL_RELATED = ("department", "worker", "case", "reattribute_to", "filed_by", "decided_by")


@router.get(
    "/appeals", response={200: list[EvaluationAppealOut], **errors(400, 403)}, summary="Appeals: yours and to decide"
)
@paginate
def list_appeals(request, which: str = "all", status: str = "", period: str = ""):
    """`which`: mine (for your departments or yourself), to_decide (pending, in your command area),
    or all of both; newest first."""
    user = request.user
    require_use(user)
    problems: dict = {}
    if which not in ("all", "mine", "to_decide"):
        problems["which"] = [_("One of all, mine or to_decide.")]
    if status and status not in AppealStatus.values:
        problems["status"] = [_("One of pending, accepted or refused.")]
    chosen = parse_period(period, problems) if period else None
    if problems:
        raise ValidationError(problems)
    to_decide = appeals.decidable_appeals(user).filter(status=AppealStatus.PENDING)
    if which == "mine":
        rows = _own_appeals(user)
    elif which == "to_decide":
        rows = to_decide
    else:
        rows = _own_appeals(user) | appeals.decidable_appeals(user)
    if status:
        rows = rows.filter(status=status)
    if chosen is not None:
        rows = rows.filter(period_key=chosen.key)
    rows = rows.select_related(*APPEAL_RELATED).prefetch_related("photos").order_by("-filed_at", "-pk")
    return _Lazy(user, rows)


class _Lazy:
    """A queryset whose page is turned into dicts once sliced (the paginator counts, then slices)."""

    def __init__(self, user, rows):
        self.user, self.rows = user, rows

    def count(self):
        return self.rows.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, page):
        return _appeals_out(self.user, self.rows[page])


@router.post(
    "/appeals",
    response={201: EvaluationAppealOut, **errors(400, 403)},
    summary="Appeal a counted case (申诉), within the days after the period allowed by the settings",
)
def file_appeal(request, payload: EvaluationAppealIn):
    """A department handler or leader (for the department) or a grid manager (for themselves)
    contests a case counted against them in a period, with a reason and photos (upload them with
    POST /api/v1/cases/photos first)."""
    user = request.user
    require_use(user)
    if payload.subject_type not in APPEALABLE:
        raise ValidationError({"subject_type": _("Departments and grid managers appeal: department or grid_manager.")})
    appeal = appeals.file_appeal(
        user,
        subject_type=payload.subject_type,
        subject_key=payload.subject_key.strip(),
        case_id=payload.case,
        period_key=payload.period,
        reason=payload.reason,
        photo_ids=payload.photo_ids,
    )
    appeal = Appeal.objects.select_related(*APPEAL_RELATED).get(pk=appeal.pk)
    return Status(201, _appeals_out(user, [appeal])[0])


@router.post(
    "/appeals/{int:appeal_id}/decision",
    response={200: EvaluationAppealOut, **errors(400, 403, 404), 409: ErrorOut},
    summary="Accept or refuse an appeal (409: already decided)",
)
def decide_appeal(request, appeal_id: Id, payload: EvaluationDecisionIn):
    """The command center over the case accepts (the case leaves the subject's figures, or with
    `reattribute_to` counts for that department) or refuses, with a note; drafts move when they are
    computed again (the worker does so within the hour)."""
    user = request.user
    require_use(user)
    if not appeals.decidable_appeals(user).filter(pk=appeal_id).exists():
        if _own_appeals(user).filter(pk=appeal_id).exists():
            raise HttpError(403, _("The command center over the case decides appeals."))
        raise HttpError(404, "not found")
    try:
        appeal = appeals.decide_appeal(
            user, appeal_id, accept=payload.accept, note=payload.note, reattribute_to=payload.reattribute_to or None
        )
    except actions.Conflict as exc:
        return Status(409, {"detail": str(exc)})
    appeal = Appeal.objects.select_related(*APPEAL_RELATED).get(pk=appeal.pk)
    return _appeals_out(user, [appeal])[0]
