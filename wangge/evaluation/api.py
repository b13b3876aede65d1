"""The evaluation (考核) in the JSON API, under /api/v1/evaluation/: schemes, reports (the published
report, else the stored draft, else a live computation, marked as such), the cases behind a figure,
computing and publishing reports, and appeals. Thin: reads through queries.py (who sees which row),
every change through actions.py / appeals.py; the worker computes drafts (tasks.py)."""

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import HUEY
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from wangge.core.apitypes import ErrorOut, Id, errors

from . import actions, appeals, queries
from .compute import subjects
from .indicators import INDICATORS, Context, indicators_for, measures_for
from .models import Appeal, AppealStatus, Report, ReportRow, ReportStatus, Scheme, SchemeVersion, SubjectType
from .period import Period, parse
from .scoring import GRADES

router = Router(tags=["evaluation"])

SLICE = re.compile(r"^\d+/\d+/$")  # a town's path: "441900/441900122/"
CODE = re.compile(r"^[-\w:.]{1,60}$", re.ASCII)  # scheme codes, subject keys, measure codes
APPEALABLE = (SubjectType.DEPARTMENT, SubjectType.GRID_MANAGER)


# ---- schemas


class Coded(Schema):
    code: str
    label: str


class SubjectOut(Schema):
    key: str
    label: str


class ItemOut(Schema):
    indicator: str
    name: str
    definition: str = Field(description="口径: how the indicator is counted")
    kind: str = Field(description="rate (0–1), average or count")
    unit: str
    higher_is_better: bool
    weight: float
    target: float


class AdjustmentOut(Schema):
    indicator: str
    name: str
    definition: str
    points: float = Field(description="points per counted unit: negative a deduction, positive a bonus")
    cap: float | None


class GradeOut(Schema):
    code: str
    label: str
    min_score: float | None = Field(description="the lowest score of the grade (none for fail)")


class VersionOut(Schema):
    number: int
    valid_from: date
    note: str
    items: list[ItemOut]
    adjustments: list[AdjustmentOut]
    grades: list[GradeOut]
    flag_below: float | None = Field(description="leaders are told of a subject scoring below this")
    sms_heads: bool = Field(description="department heads also get their score by SMS")


class VersionRef(Schema):
    number: int
    valid_from: date


class SchemeOut(Schema):
    code: str
    name: str
    description: str
    subject_type: Coded
    is_active: bool
    current_version: VersionOut | None = Field(description="the version in force today")
    versions: list[VersionRef]


class IndicatorInfo(Schema):
    code: str
    name: str
    definition: str
    kind: str
    unit: str
    higher_is_better: bool


class MeasureInfo(Schema):
    code: str
    name: str
    definition: str
    links_cases: bool = Field(description="its cases are listed by cases_url + this code")


class RowOut(Schema):
    subject: SubjectOut
    slice: str = Field(description="\"\" for the subject's whole figures, else a town's path (a department there)")
    score: float | None
    grade: str
    grade_label: str
    rank: int | None
    indicators: dict[str, float | None]
    measures: dict[str, float]
    points: dict[str, float]
    cases_url: str = Field(description="the cases behind a figure: append a measure code (links_cases)")


class ReportOut(Schema):
    scheme: Coded
    report: int | None = Field(description="the stored report's id (none: computed live just now)")
    period: str
    period_start: date
    period_end: date
    state: str = Field(description="published, draft (stored, not yet published) or live (computed now)")
    revision: int | None
    as_of: datetime = Field(description="the trail is counted as it stood at this moment")
    published_at: datetime | None
    version: int | None
    indicators: list[IndicatorInfo]
    measures: list[MeasureInfo]
    rows: list[RowOut]


class CaseRefOut(Schema):
    id: int
    number: str | None
    status: str
    created_at: datetime


class ComputeIn(Schema):
    scheme: str
    period: str


class ComputeOut(Schema):
    task: str
    scheme: str
    period: str
    draft: int | None = Field(description="the draft stored now (replaced when the task is done)")
    published: int | None = Field(description="the published report of the period, if any")


class PublishIn(Schema):
    reason: str = Field("", description="required when the period is published already (a new revision)")


class PublishedOut(Schema):
    report: int
    scheme: str
    period: str
    state: str
    revision: int
    published_at: datetime


class AppealIn(Schema):
    subject_type: str = Field(description="department or grid_manager")
    subject_key: str = Field(description="the department's code, or your user id")
    case: Id
    period: str
    reason: str
    photo_ids: list[Id] = []


class DecisionIn(Schema):
    accept: bool | None = None
    note: str = ""
    reattribute_to: str = Field("", description="accepted: count the case for this department (its code)")


class AppealOut(Schema):
    id: int
    subject_type: str
    subject: SubjectOut
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


# ---- helpers


def _require_use(user) -> None:
    if not queries.may_use(user):
        raise HttpError(403, _("The evaluation is for staff of the command centers, departments and grids."))


def _require_publish(user) -> None:
    if not queries.may_publish(user):
        raise HttpError(403, _("Only administrators, city dispatchers and city leaders compute and publish reports."))


def _period(key: str, problems: dict) -> Period | None:
    try:
        return parse(key)
    except ValidationError as exc:
        problems.update(exc.message_dict)
        return None


def _code(value: str, field: str, problems: dict) -> str:
    value = (value or "").strip()
    if not CODE.match(value):
        problems[field] = [_("Unknown value.")]
    return value


def _version_out(version: SchemeVersion) -> dict:
    body = version.body
    grades = body.get("grades") or {}
    return {
        "number": version.number,
        "valid_from": version.valid_from,
        "note": version.note,
        "items": [
            {**_indicator_info(INDICATORS[i["indicator"]]), "indicator": i["indicator"], "weight": i["weight"],
             "target": i["target"]}
            for i in body.get("items", []) if i["indicator"] in INDICATORS
        ],
        "adjustments": [
            {**_indicator_info(INDICATORS[a["indicator"]]), "indicator": a["indicator"], "points": a["points"],
             "cap": a.get("cap")}
            for a in body.get("adjustments", []) if a["indicator"] in INDICATORS
        ],
        "grades": [{"code": c, "label": str(label), "min_score": grades.get(c)} for c, label in GRADES.items()],
        "flag_below": body.get("flag_below"),
        "sms_heads": bool(body.get("sms_heads")),
    }  # fmt: skip


def _indicator_info(indicator) -> dict:
    return {
        "code": indicator.code,
        "name": str(indicator.name),
        "definition": str(indicator.definition),
        "kind": indicator.kind,
        "unit": str(indicator.unit),
        "higher_is_better": indicator.higher_is_better,
    }


def _subject_type(value: str) -> dict:
    return {"code": value, "label": str(SubjectType(value).label)}


def _cases_url(scheme: Scheme, period: Period, report: Report | None, row: ReportRow) -> str:
    params = {"scheme": scheme.code, "period": period.key, "key": row.subject_key}
    if row.slice_path:
        params["slice"] = row.slice_path
    if report is not None:
        params["report"] = report.pk
    return f"{reverse('api-1:evaluation_cases')}?{urlencode(params)}&measure="


def _report_out(sheet: queries.Sheet, slice_path: str) -> dict:
    scheme, period, report = sheet.scheme, sheet.period, sheet.report
    if slice_path:
        rows = [r for r in sheet.rows if r.slice_path == slice_path]
    else:  # the subjects' whole figures; a town sees the departments' work in the town instead
        rows = [r for r in sheet.rows if not r.slice_path] or sheet.rows
    version = report.version if report else scheme.version_for(period.start)
    measures = measures_for(scheme.subject_type, Context(period, timezone.now()))
    return {
        "scheme": {"code": scheme.code, "label": scheme.name},
        "report": report.pk if report else None,
        "period": period.key,
        "period_start": period.start,
        "period_end": period.end,
        "state": sheet.state,
        "revision": report.revision if report and report.revision else None,
        "as_of": report.as_of if report else timezone.now(),
        "published_at": report.published_at if report else None,
        "version": version.number if version else None,
        "indicators": [_indicator_info(i) for i in indicators_for(scheme.subject_type)],
        "measures": [
            {
                "code": code,
                "name": str(m.name),
                "definition": str(m.definition),
                "links_cases": source.links_cases and m.counts_cases,
            }
            for code, (source, m) in measures.items()
        ],  # fmt: skip
        "rows": [
            {
                "subject": {"key": r.subject_key, "label": r.subject_label},
                "slice": r.slice_path,
                "score": r.score,
                "grade": r.grade,
                "grade_label": str(GRADES.get(r.grade, "")),
                "rank": r.rank,
                "indicators": r.indicators,
                "measures": r.measures,
                "points": r.points,
                "cases_url": _cases_url(scheme, period, report, r),
            }
            for r in rows
        ],
    }


# ---- schemes and reports


@router.get("/schemes", response={200: list[SchemeOut], **errors(403)}, summary="Evaluation schemes")
def list_schemes(request, subject_type: str = ""):
    """The active schemes (of one subject type: department, grid_manager, area or desk), each with
    the version in force today: scored indicators with weight, target and definition (口径),
    deductions and bonuses, grade bands."""
    _require_use(request.user)
    schemes = queries.visible_schemes(request.user).prefetch_related("versions")
    if subject_type:
        schemes = schemes.filter(subject_type=subject_type)
    today = timezone.localdate()
    out = []
    for scheme in schemes:
        versions = sorted(scheme.versions.all(), key=lambda v: v.number)
        in_force = [v for v in versions if v.valid_from <= today]
        current = max(in_force, key=lambda v: (v.valid_from, v.number)) if in_force else None
        out.append({
            "code": scheme.code, "name": scheme.name, "description": scheme.description,
            "subject_type": _subject_type(scheme.subject_type), "is_active": scheme.is_active,
            "current_version": _version_out(current) if current else None,
            "versions": [{"number": v.number, "valid_from": v.valid_from} for v in versions],
        })  # fmt: skip
    return out


@router.get("/reports", response={200: list[ReportOut], **errors(400, 403)}, summary="Scores of a period")
def list_reports(
    request,
    period: str,
    subject_type: str,
    scheme: str = "",
    slice_path: str = Query("", alias="slice", description="a town's path: the departments' work in that town"),
):
    """One report per active scheme of the subject type (or the scheme asked for): the published
    report when there is one, else the stored draft, else computed live now (`state` says which),
    with the rows you may see. Without `slice`, the subjects' whole figures (a town's staff: the
    departments' work in their town)."""
    user = request.user
    _require_use(user)
    problems: dict = {}
    chosen = _period(period, problems)
    if subject_type not in SubjectType.values:
        problems["subject_type"] = [_("One of department, grid_manager, area or desk.")]
    if slice_path and not SLICE.match(slice_path):
        problems["slice"] = [_("A town's path, such as 441900/441900122/.")]
    schemes = Scheme.objects.filter(subject_type=subject_type)
    if scheme:
        schemes = schemes.filter(code=_code(scheme, "scheme", problems))
        if "scheme" not in problems and "subject_type" not in problems and not schemes.exists():
            problems["scheme"] = [_("No scheme with this code evaluates this kind of subject.")]
    else:
        schemes = schemes.filter(is_active=True)
    if problems:
        raise ValidationError(problems)
    return [_report_out(queries.sheet(user, s, chosen), slice_path) for s in schemes]


@router.get(
    "/cases",
    response={200: list[CaseRefOut], **errors(400, 403, 404)},
    url_name="evaluation_cases",
    summary="The cases behind a figure",
)
@paginate
def figure_cases(
    request,
    scheme: str,
    period: str,
    key: str,
    measure: str,
    slice_path: str = Query("", alias="slice"),
    report: Id | None = None,
):
    """The cases a row's measure counts (a published report: as frozen at publication), among
    those you may see: `count` equals the figure. 404 when the row is not one you may see."""
    user = request.user
    _require_use(user)
    problems: dict = {}
    chosen = _period(period, problems)
    code = _code(scheme, "scheme", problems)
    _code(key, "key", problems)
    _code(measure, "measure", problems)
    if slice_path and not SLICE.match(slice_path):
        problems["slice"] = [_("A town's path, such as 441900/441900122/.")]
    found = Scheme.objects.filter(code=code).first() if "scheme" not in problems else None
    if found is None and "scheme" not in problems:
        problems["scheme"] = [_("Unknown scheme.")]
    stored = None
    if found is not None and chosen is not None:
        if report is not None:
            stored = Report.objects.filter(pk=report, scheme=found, period_key=chosen.key).first()
            if stored is None:
                problems["report"] = [_("Not a report of this scheme and period.")]
        else:
            stored = queries.current_report(found, chosen)
        if "measure" not in problems:
            linked = measures_for(found.subject_type, Context(chosen, timezone.now())).get(measure)
            if linked is None or not (linked[0].links_cases and linked[1].counts_cases):
                problems["measure"] = [_("Not a measure that counts cases for this kind of subject.")]
    if problems:
        raise ValidationError(problems)
    if stored is not None:
        row = stored.rows.filter(subject_key=key, slice_path=slice_path).first()
    else:
        subject = subjects(found.subject_type).get(key)
        row = ReportRow(subject_key=key, subject_label=subject.label, subject_path=subject.path,
                        slice_path=slice_path) if subject else None  # fmt: skip
    viewer = queries.viewer(user)
    if row is None or not viewer.sees(found.subject_type, row.subject_key, row.subject_path, row.slice_path):
        raise HttpError(404, "not found")
    sheet = queries.Sheet(found, chosen, stored, [row])
    return queries.cases_behind(user, sheet, row, measure).order_by("pk").values("id", "number", "status", "created_at")


@router.post(
    "/reports",
    response={202: ComputeOut, **errors(400, 403)},
    summary="Compute a draft report (in the background)",
)
def compute_report(request, payload: ComputeIn):
    """Queue the computation of a draft of the scheme's report for an ended period (it replaces the
    period's current draft; a published report stays until the new draft is published). You are
    told in-app when the draft is ready. For administrators, city dispatchers and city leaders."""
    user = request.user
    _require_publish(user)
    problems: dict = {}
    code = _code(payload.scheme, "scheme", problems)
    chosen = _period(payload.period, problems)
    found = Scheme.objects.filter(code=code).first() if "scheme" not in problems else None
    if found is None and "scheme" not in problems:
        problems["scheme"] = [_("Unknown scheme.")]
    if chosen is not None and not chosen.has_ended:
        problems["period"] = [
            _("The period has not ended yet: it can be scored from %(d)s.") % {"d": chosen.end + timedelta(days=1)}
        ]
    elif chosen is not None and found is not None and found.version_for(chosen.start) is None:
        problems["period"] = [_("The scheme has no version in force for this period.")]
    if problems:
        raise ValidationError(problems)
    from .tasks import compute_report_task

    task = compute_report_task.s(found.pk, chosen.key, user.pk)
    transaction.on_commit(lambda: HUEY.enqueue(task))
    current = Report.objects.filter(scheme=found, period_key=chosen.key)
    draft = current.filter(status=ReportStatus.DRAFT).values_list("pk", flat=True).first()
    published = current.filter(status=ReportStatus.PUBLISHED).values_list("pk", flat=True).first()
    return Status(202, {"task": task.id, "scheme": found.code, "period": chosen.key, "draft": draft,
                        "published": published})  # fmt: skip


@router.post(
    "/reports/{int:report_id}/publish",
    response={200: PublishedOut, **errors(400, 403, 404), 409: ErrorOut},
    summary="Publish a draft report (409: published already, or by someone else at the same time)",
)
def publish_report(request, report_id: Id, payload: PublishIn):
    """Freeze a draft: its scores and the cases behind each figure stop moving with the trail, and
    every subject is told its score. Publishing a period again makes a new revision and needs a
    reason; the old revision is kept."""
    user = request.user
    _require_publish(user)
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        raise HttpError(404, "not found")
    try:
        report = actions.publish_report(report, user, payload.reason)
    except actions.Conflict as exc:
        return Status(409, {"detail": str(exc)})
    return {"report": report.pk, "scheme": report.scheme.code, "period": report.period_key, "state": report.status,
            "revision": report.revision, "published_at": report.published_at}  # fmt: skip


# ---- appeals


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


@router.get("/appeals", response={200: list[AppealOut], **errors(400, 403)}, summary="Appeals: yours and to decide")
@paginate
def list_appeals(request, which: str = "all", status: str = "", period: str = ""):
    """`which`: mine (for your departments or yourself), to_decide (pending, in your command area),
    or all of both; newest first."""
    user = request.user
    _require_use(user)
    problems: dict = {}
    if which not in ("all", "mine", "to_decide"):
        problems["which"] = [_("One of all, mine or to_decide.")]
    if status and status not in AppealStatus.values:
        problems["status"] = [_("One of pending, accepted or refused.")]
    chosen = _period(period, problems) if period else None
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
    response={201: AppealOut, **errors(400, 403)},
    summary="Appeal a counted case (申诉), within the days after the period allowed by the settings",
)
def file_appeal(request, payload: AppealIn):
    """A department handler or leader (for the department) or a grid manager (for themselves)
    contests a case counted against them in a period, with a reason and photos (upload them with
    POST /api/v1/cases/photos first)."""
    user = request.user
    _require_use(user)
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
    response={200: AppealOut, **errors(400, 403, 404), 409: ErrorOut},
    summary="Accept or refuse an appeal (409: already decided)",
)
def decide_appeal(request, appeal_id: Id, payload: DecisionIn):
    """The command center over the case accepts (the case leaves the subject's figures, or with
    `reattribute_to` counts for that department) or refuses, with a note; drafts move when they are
    computed again (the worker does so within the hour)."""
    user = request.user
    _require_use(user)
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
