"""The evaluation (考核) in the JSON API, under /api/v1/evaluation/: schemes, reports (the published
report, else the stored draft, else a live computation, marked as such), the cases behind a figure,
computing and publishing reports, and appeals. Thin: reads through queries.py (who sees which row),
every change through actions.py / appeals.py; the worker computes drafts (tasks.py)."""

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import HUEY
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from wangge.core.apitypes import ErrorOut, Id, errors

from . import actions, queries
from .compute import subjects
from .indicators import INDICATORS, Context, indicators_for, measures_for
from .models import Report, ReportRow, ReportStatus, Scheme, SchemeVersion, SubjectType
from .period import Period, parse
from .scoring import GRADES

router = Router(tags=["evaluation"])

SLICE = re.compile(r"^\d+/\d+/$")  # a town's path: "441900/441900122/"
CODE = re.compile(r"^[-\w:.]{1,60}$", re.ASCII)  # scheme codes, subject keys, measure codes


# ---- schemas


class EvaluationCoded(Schema):
    code: str
    label: str


class EvaluationSubjectOut(Schema):
    key: str
    label: str


class EvaluationItemOut(Schema):
    indicator: str
    name: str
    definition: str = Field(description="口径: how the indicator is counted")
    kind: str = Field(description="rate (0–1), average or count")
    unit: str
    higher_is_better: bool
    weight: float
    target: float


class EvaluationAdjustmentOut(Schema):
    indicator: str
    name: str
    definition: str
    points: float = Field(description="points per counted unit: negative a deduction, positive a bonus")
    cap: float | None


class EvaluationGradeOut(Schema):
    code: str
    label: str
    min_score: float | None = Field(description="the lowest score of the grade (none for fail)")


class EvaluationVersionOut(Schema):
    number: int
    valid_from: date
    note: str
    items: list[EvaluationItemOut]
    adjustments: list[EvaluationAdjustmentOut]
    grades: list[EvaluationGradeOut]
    flag_below: float | None = Field(description="leaders are told of a subject scoring below this")
    sms_heads: bool = Field(description="department heads also get their score by SMS")


class EvaluationVersionRef(Schema):
    number: int
    valid_from: date


class EvaluationSchemeOut(Schema):
    code: str
    name: str
    description: str
    subject_type: EvaluationCoded
    is_active: bool
    current_version: EvaluationVersionOut | None = Field(description="the version in force today")
    versions: list[EvaluationVersionRef]


class EvaluationIndicatorInfo(Schema):
    code: str
    name: str
    definition: str
    kind: str
    unit: str
    higher_is_better: bool


class EvaluationMeasureInfo(Schema):
    code: str
    name: str
    definition: str
    links_cases: bool = Field(description="its cases are listed by cases_url + this code")


class EvaluationRowOut(Schema):
    subject: EvaluationSubjectOut
    slice: str = Field(description="\"\" for the subject's whole figures, else a town's path (a department there)")
    score: float | None
    grade: str
    grade_label: str
    rank: int | None
    indicators: dict[str, float | None]
    measures: dict[str, float]
    points: dict[str, float]
    cases_url: str = Field(description="the cases behind a figure: append a measure code (links_cases)")


class EvaluationReportOut(Schema):
    scheme: EvaluationCoded
    report: int | None = Field(description="the stored report's id (none: computed live just now)")
    period: str
    period_start: date
    period_end: date
    state: str = Field(description="published, draft (stored, not yet published) or live (computed now)")
    revision: int | None
    as_of: datetime = Field(description="the trail is counted as it stood at this moment")
    published_at: datetime | None
    version: int | None
    indicators: list[EvaluationIndicatorInfo]
    measures: list[EvaluationMeasureInfo]
    rows: list[EvaluationRowOut]


class EvaluationCaseRefOut(Schema):
    id: int
    number: str | None
    status: str
    created_at: datetime


class EvaluationComputeIn(Schema):
    scheme: str
    period: str


class EvaluationComputeOut(Schema):
    task: str
    scheme: str
    period: str
    draft: int | None = Field(description="the draft stored now (replaced when the task is done)")
    published: int | None = Field(description="the published report of the period, if any")


class EvaluationPublishIn(Schema):
    reason: str = Field("", description="required when the period is published already (a new revision)")


class EvaluationPublishedOut(Schema):
    report: int
    scheme: str
    period: str
    state: str
    revision: int
    published_at: datetime


# ---- helpers


def require_use(user) -> None:
    if not queries.may_use(user):
        raise HttpError(403, _("The evaluation is for staff of the command centers, departments and grids."))


def require_publish(user) -> None:
    if not queries.may_publish(user):
        raise HttpError(403, _("Only administrators, city dispatchers and city leaders compute and publish reports."))


def parse_period(key: str, problems: dict) -> Period | None:
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


@router.get("/schemes", response={200: list[EvaluationSchemeOut], **errors(403)}, summary="Evaluation schemes")
def list_schemes(request, subject_type: str = ""):
    """The active schemes (of one subject type: department, grid_manager, area or desk), each with
    the version in force today: scored indicators with weight, target and definition (口径),
    deductions and bonuses, grade bands."""
    require_use(request.user)
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


@router.get("/reports", response={200: list[EvaluationReportOut], **errors(400, 403)}, summary="Scores of a period")
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
    require_use(user)
    problems: dict = {}
    chosen = parse_period(period, problems)
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
    response={200: list[EvaluationCaseRefOut], **errors(400, 403, 404)},
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
    require_use(user)
    problems: dict = {}
    chosen = parse_period(period, problems)
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
    response={202: EvaluationComputeOut, **errors(400, 403)},
    summary="Compute a draft report (in the background)",
)
def compute_report(request, payload: EvaluationComputeIn):
    """Queue the computation of a draft of the scheme's report for an ended period (it replaces the
    period's current draft; a published report stays until the new draft is published). You are
    told in-app when the draft is ready. For administrators, city dispatchers and city leaders."""
    user = request.user
    require_publish(user)
    problems: dict = {}
    code = _code(payload.scheme, "scheme", problems)
    chosen = parse_period(payload.period, problems)
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
    response={200: EvaluationPublishedOut, **errors(400, 403, 404), 409: ErrorOut},
    summary="Publish a draft report (409: published already, or by someone else at the same time)",
)
def publish_report(request, report_id: Id, payload: EvaluationPublishIn):
    """Freeze a draft: its scores and the cases behind each figure stop moving with the trail, and
    every subject is told its score. Publishing a period again makes a new revision and needs a
    reason; the old revision is kept."""
    user = request.user
    require_publish(user)
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        raise HttpError(404, "not found")
    try:
        report = actions.publish_report(report, user, payload.reason)
    except actions.Conflict as exc:
        return Status(409, {"detail": str(exc)})
    return {"report": report.pk, "scheme": report.scheme.code, "period": report.period_key, "state": report.status,
            "revision": report.revision, "published_at": report.published_at}  # fmt: skip


from . import api_appeals  # noqa: E402, F401  (the appeals, on this router)
