"""Cases in the JSON API: intake, lists, detail, transitions, photos, and the citizen's public side."""

from datetime import date, datetime

from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from wangge.core import pii, ratelimit
from wangge.core.apitypes import Id, errors

from . import actions, channels, queries
from .models import Case, Channel
from .photos import store_photo

router = Router(tags=["cases"])
public_router = Router(tags=["public"], auth=None)


class CaseIn(Schema):
    description: str
    lat: float | None = None
    lng: float | None = None
    area_code: str = ""
    channel: str = ""
    category: str = ""
    matter_item: str = ""
    severity: str = ""
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    photo_ids: list[Id] = []


class AssignmentOut(Schema):
    id: int
    department: str
    department_name: str
    status: str
    deadline: datetime
    overdue: bool
    extension_status: str
    feedback: str
    return_reason: str
    return_decision: str = Field(
        description='the dispatcher\'s word on a return: "" not decided (or never returned), "accepted",'
        ' "overruled" (decide with the action decide_return)'
    )
    return_decided_at: datetime | None
    rework_count: int = Field(description="times a verification on site sent the work back (verify_fail)")


class CaseOut(Schema):
    id: int
    number: str | None
    tracking_number: str
    status: str
    severity: str
    channel: str
    area_code: str
    area_name: str
    command_level: str
    category: str | None
    matter_item: str | None
    description: str
    address: str
    lat: float | None
    lng: float | None
    reporter_name: str
    reporter_phone: str  # always masked here
    is_overdue: bool
    duplicate_of: int | None
    merged_into: int | None
    outcome: str
    outcome_reason: str
    satisfaction: int | None
    version: int
    created_at: datetime
    dispatch_deadline: datetime | None
    closed_at: datetime | None


class CaseDetailOut(CaseOut):
    assignments: list[AssignmentOut]
    allowed_actions: list[str]


class EventOut(Schema):
    id: int
    action: str
    from_status: str
    to_status: str
    actor: str
    actor_role: str
    note: str
    data: dict
    photo_ids: list[int]
    lat: float | None
    lng: float | None
    created_at: datetime


class TransitionIn(Schema):
    action: str = Field(description="an action of the case's allowed_actions (GET /cases/{id})")
    version: int
    note: str = Field(
        "",
        description="what the action needs said: required for return, reject, feedback, verify_fail, reopen,"
        " close, merge, request_extension, and decide_return when overruling (why the department must handle it)",
    )
    reason: str = ""
    departments: list[str] = []
    hours: float | None = None
    approve: bool | None = Field(
        None,
        description="decide_extension: grant the extension or refuse it; decide_return (required): true accepts"
        " the department's return, false overrules it (the assignment is pending again, original deadline)",
    )
    assignment: Id | None = Field(
        None,
        description="decide_extension: the assignment whose extension is decided (default: the first waiting);"
        " decide_return (required): the returned assignment of this case waiting for a decision",
    )
    outcome: str = ""
    satisfaction: int | None = None
    rating: int | None = None
    into: Id | None = None
    category: str = ""
    matter_item: str = ""
    severity: str = ""
    photo_ids: list[Id] = []
    lat: float | None = None
    lng: float | None = None


class PhotoOut(Schema):
    id: int
    token: str  # an anonymous report names its photos by this (ids are guessable)
    width: int
    height: int
    size: int


class PublicCaseIn(Schema):
    description: str
    reporter_phone: str
    lat: float
    lng: float
    category: str = ""
    address: str = ""
    reporter_name: str = ""
    photo_ids: list[Id] = []  # refused without an account: use photo_tokens
    photo_tokens: list[str] = []


class PublicEventOut(Schema):
    action: str
    label: str
    to_status: str
    note: str
    created_at: datetime


class PublicCaseOut(Schema):
    tracking_number: str
    status: str
    status_label: str
    outcome: str
    created_at: datetime
    closed_at: datetime | None
    satisfaction: int | None
    events: list[PublicEventOut]


class EvaluateIn(Schema):
    satisfaction: int
    comment: str = ""


# Filled below; never read through the relation (a query each for duplicate_of and merged_into).
_CASE_OUT_BY_HAND = {
    *("reporter_phone", "area_code", "area_name", "category", "matter_item", "duplicate_of", "merged_into")
}


def case_out(case: Case) -> dict:
    phone = case.reporter_phone
    return {
        **{f: getattr(case, f) for f in CaseOut.model_fields if f not in _CASE_OUT_BY_HAND and hasattr(case, f)},
        "area_code": case.area.code,
        "area_name": case.area.name,
        "category": f"{case.category.kind}:{case.category.code}" if case.category_id else None,
        "matter_item": case.matter_item.code if case.matter_item_id else None,
        "reporter_phone": pii.mask_phone(phone) if phone else "",
        "duplicate_of": case.duplicate_of_id,
        "merged_into": case.merged_into_id,
    }


def case_detail_out(case: Case, user) -> dict:
    return {
        **case_out(case),
        "assignments": [
            {
                "id": a.pk,
                "department": a.department.code,
                "department_name": a.department.name,
                "status": a.status,
                "deadline": a.deadline,
                "overdue": a.overdue_at is not None,
                "extension_status": a.extension_status,
                "feedback": a.feedback,
                "return_reason": a.return_reason,
                "return_decision": a.return_decision,
                "return_decided_at": a.return_decided_at,
                "rework_count": a.rework_count,
            }
            for a in case.assignments.select_related("department")
        ],
        "allowed_actions": [t.action for t in actions.allowed_actions(user, case)],
    }


@router.post(
    "",
    response={201: CaseOut, **errors(400, 403, 409)},
    summary="Report a case (header Idempotency-Key honoured: 409 if reused for another report;"
    " 403 if your role may not use the channel or urgency)",
)
def create_case(request, payload: CaseIn):
    data = payload.dict()
    data["channel"] = data["channel"] or channels.default_channel(request.user)
    report = actions.Report(**data, idempotency_key=request.headers.get("Idempotency-Key", ""))
    case, _created = actions.report_case(report, request.user)  # a reused key: 409 (wangge.api)
    # A new case has no assignments yet; GET /cases/{id} gives them and the allowed actions.
    return Status(201, case_out(case))


# "from" and "to" (the queue's names) are Python keywords: the parameters are aliased.
REPORTED_FROM = Query(None, alias="from", description="Reported on or after (Asia/Shanghai)")
REPORTED_TO = Query(None, alias="to", description="Reported on or before (Asia/Shanghai)")


@router.get("", response=list[CaseOut], summary="Cases in your jurisdiction, newest first")
@paginate
def list_cases(
    request,
    status: str = "",
    area: str = "",
    overdue: bool | None = None,
    department: str = "",
    category: str = "",
    channel: str = "",
    due_today: bool = False,
    returns: bool = Query(False, description="Returns waiting for the dispatcher's decision"),
    q: str = Query("", description="Number, tracking number or words of the description"),
    reported_from: date | None = REPORTED_FROM,
    reported_to: date | None = REPORTED_TO,
    mine: bool = Query(False, description="Only cases at my command level"),
    severity: str = "",
    dispatch_overdue: bool = False,
    extensions: bool = Query(False, description="Extension requests waiting"),
    duplicates: bool = Query(False, description="Flagged as likely duplicates"),
):
    """The queue's filters, by the same names as the queue page's address (one query builds both)."""
    flags = {"returns": returns, "mine": mine, "dispatch_overdue": dispatch_overdue, "extensions": extensions}
    params = {
        **{name: "1" if value else "" for name, value in {**flags, "duplicates": duplicates}.items()},
        "due_today": "1" if due_today else "",
        "overdue": {True: "1", False: "0"}.get(overdue, ""),
        **{"area": area, "department": department, "category": category, "channel": channel, "q": q},
        "severity": severity,
        "from": reported_from.isoformat() if reported_from else "",
        "to": reported_to.isoformat() if reported_to else "",
    }
    cases = queries.filter_cases(queries.case_list(request.user), **queries.filter_args(request.user, params))
    return [case_out(c) for c in queries.filter_cases(cases, status=status)]


@router.get("/{int:case_id}", response={200: CaseDetailOut, **errors(404)})
def get_case(request, case_id: int):
    case = get_object_or_404(queries.case_list(request.user), pk=case_id)
    return case_detail_out(case, request.user)


@router.get(
    "/{int:case_id}/events", response={200: list[EventOut], **errors(404)}, summary="The case's trail, oldest first"
)
def case_events(request, case_id: int):
    case = get_object_or_404(queries.case_list(request.user), pk=case_id)
    return [
        {
            "id": e.pk,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "actor": e.actor_name,
            "actor_role": e.actor_role,
            "note": e.note,
            "data": e.data,
            "photo_ids": [p.pk for p in e.photos.all()],
            "lat": e.lat,
            "lng": e.lng,
            "created_at": e.created_at,
        }
        for e in case.events.prefetch_related("photos")
    ]


@router.post(
    "/{int:case_id}/transitions",
    response={200: CaseDetailOut, **errors(400, 403, 404, 409)},
    summary="Act on a case: 400 not allowed now, 403 not your role, 409 stale version (or an Idempotency-Key"
    " reused for another request); the same request sent again with its Idempotency-Key answers with the case"
    " and acts no second time",
)
def transition_case(request, case_id: int, payload: TransitionIn):
    get_object_or_404(queries.case_list(request.user), pk=case_id)
    params = payload.dict(exclude={"action", "version"})
    params = {k: v for k, v in params.items() if v not in (None, "", [])}
    key = request.headers.get("Idempotency-Key", "")
    case = actions.transition(
        case_id, request.user, payload.action, version=payload.version, idempotency_key=key, **params
    )
    return case_detail_out(case, request.user)


@router.post(
    "/photos", response={201: PhotoOut, **errors(400)}, summary="Upload a photo; pass its id with a report or an action"
)
def upload_photo(request, file: File[UploadedFile]):
    photo = store_photo(file, user=request.user, field="file")
    return Status(201, photo)


@public_router.post(
    "/cases", response={201: dict, **errors(400, 429)}, summary="A citizen's report, without an account"
)
def public_create_case(request, payload: PublicCaseIn):
    ratelimit.check(request, "public_api")  # 429 + Retry-After over the limit
    ratelimit.check_captcha(request)  # a configured human check: the X-Captcha-Token header
    report = actions.Report(
        **payload.dict(), channel=Channel.CITIZEN_WEB, idempotency_key=request.headers.get("Idempotency-Key", "")
    )
    case, _created = actions.report_case(report, None)
    return Status(201, {"tracking_number": case.tracking_number, "status": case.status})


@public_router.post("/photos", response={201: PhotoOut, **errors(400, 429)}, summary="A citizen's photo for a report")
def public_upload_photo(request, file: File[UploadedFile]):
    ratelimit.check(request, "photo_upload")
    return Status(201, store_photo(file, user=None, field="file"))


@public_router.get(
    "/cases/{tracking_number}",
    response={200: PublicCaseOut, **errors(404, 429)},
    summary="Follow a report: no personal data",
)
def public_case(request, tracking_number: str):
    ratelimit.check(request, "public_track")  # 429 + Retry-After: numbers are not to be guessed
    case = get_object_or_404(Case, tracking_number=tracking_number.strip().upper())
    return queries.public_view(case)


@public_router.post("/cases/{tracking_number}/evaluate", response={200: PublicCaseOut, **errors(400, 404, 429)})
def public_evaluate(request, tracking_number: str, payload: EvaluateIn):
    ratelimit.check(request, "public_evaluate")
    try:
        case = actions.evaluate_by_tracking_number(
            tracking_number.strip().upper(), payload.satisfaction, payload.comment
        )
    except Case.DoesNotExist:
        from django.http import Http404

        raise Http404 from None
    return queries.public_view(case)
