"""Ranking, report, subject, drill-down, print and export pages of the evaluation. Thin: parse,
authorise, read through queries.sheet / cases_behind (who sees which row is decided there), call
one action (compute a draft, publish), render. Tables are built by report_tables."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST

from wangge.accounts.models import Role
from wangge.accounts.scope import is_admin
from wangge.areas.models import Level

from . import actions, report_export
from . import report_tables as tables
from .appeals import subjects_of_user
from .models import Report, ReportStatus, Scheme, SubjectType
from .period import Period, last_month, parse
from .queries import Viewer, cases_behind, current_report, may_use, sheet, subject_history, viewer

CASES_PER_PAGE = 200
FIELD_LABELS = {
    "type": pgettext_lazy("evaluation report", "Evaluated"),
    "scheme": pgettext_lazy("evaluation report", "Scheme"),
    "period": pgettext_lazy("evaluation report", "Period"),
    "measure": pgettext_lazy("evaluation report", "Figure"),
    "reason": gettext_lazy("Reason"),
}


def may_publish(user) -> bool:
    """Who may compute a draft and publish it: administrators, the city command center's
    dispatchers and city-level leaders (the rule lives here, in views_reports)."""
    if not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    return any(
        m.role == Role.CITY_DISPATCHER or (m.role == Role.LEADER and m.area_id and m.area.level == Level.CITY)
        for m in user.membership_list
    )


def _user_may_use(request):
    if not may_use(request.user):
        raise Http404


def _field_error(request, field: str, message) -> None:
    label = FIELD_LABELS.get(field, field)
    messages.error(request, _("%(field)s: %(message)s") % {"field": label, "message": message})


def _validation_messages(request, exc: ValidationError, default_field="period") -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                _field_error(request, field, message)
    else:
        for message in exc.messages:
            _field_error(request, default_field, message)


def _period(request, key: str | None, default: Period | None = None) -> Period | None:
    """The period of the request (a key of period.py), or the default; None after a field message."""
    key = (key or "").strip()
    if not key:
        return default or last_month()
    try:
        return parse(key)
    except ValidationError as exc:
        _validation_messages(request, exc)
        return None


def _required_period(request, key: str | None) -> Period | None:
    if not (key or "").strip():
        _field_error(request, "period", pgettext("evaluation report", "Choose a period."))
        return None
    return _period(request, key)


def default_type(v: Viewer) -> str:
    if v.everything:
        return SubjectType.DEPARTMENT
    if v.only_self:
        return SubjectType.GRID_MANAGER
    if v.department_codes and not v.area_paths:
        return SubjectType.DEPARTMENT
    if any(p.count("/") <= 2 for p in v.area_paths):
        return SubjectType.DEPARTMENT
    return SubjectType.AREA


def types_for(v: Viewer) -> list[str]:
    """The subject types whose tab may show the user something."""
    if v.everything:
        return list(tables.TYPE_LABELS)
    out = []
    if v.department_codes or any(p.count("/") <= 2 for p in v.area_paths):
        out.append(SubjectType.DEPARTMENT)
    if v.area_paths or v.only_self:
        out.append(SubjectType.GRID_MANAGER)
    if v.area_paths:
        out.append(SubjectType.AREA)
        if not v.only_self:
            out.append(SubjectType.DESK)
    return out


def _period_links(period: Period | None) -> list[dict]:
    """Quick choices beside the month picker: last month, this month, last quarter, this year."""
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    last_q = f"{today.year}-Q{quarter - 1}" if quarter > 1 else f"{today.year - 1}-Q4"
    choices = [
        (last_month().key, pgettext("evaluation report", "Last month")),
        (f"{today:%Y-%m}", _("This month")),
        (last_q, pgettext("evaluation report", "Last quarter")),
        (str(today.year), _("This year")),
    ]
    return [{"key": k, "label": label, "active": period is not None and period.key == k} for k, label in choices]


def _state_context(request, sheet_, table) -> dict:
    """The state banner and the buttons: compute a draft (ended periods), publish a draft."""
    report = sheet_.report
    newer_draft = None
    if report is not None and report.status == ReportStatus.PUBLISHED:
        newer_draft = Report.objects.filter(
            scheme=sheet_.scheme, period_key=sheet_.period.key, status=ReportStatus.DRAFT
        ).first()
    current = None
    if report is not None and report.status == ReportStatus.SUPERSEDED:
        current = Report.objects.filter(
            scheme=sheet_.scheme, period_key=sheet_.period.key, status=ReportStatus.PUBLISHED
        ).first()
    published_before = Report.objects.filter(
        scheme=sheet_.scheme, period_key=sheet_.period.key, status__in=[ReportStatus.PUBLISHED, ReportStatus.SUPERSEDED]
    ).exists()
    return {
        "sheet": sheet_,
        "report": report,
        "table": table,
        "may_publish": may_publish(request.user),
        "newer_draft": newer_draft,
        "current_report": current,
        "reason_required": published_before,
        "scored_from": sheet_.period.end + timedelta(days=1),
        "version": table.version,
    }


# ---------------------------------------------------------------------------------------------
# Ranking (live, draft or published) and stored reports


@login_required
def ranking(request):
    _user_may_use(request)
    v = viewer(request.user)
    types = [t for t in types_for(v) if Scheme.objects.filter(is_active=True, subject_type=t).exists()]
    wanted_type = request.GET.get("type", "")
    status = 200
    if wanted_type and wanted_type not in tables.TYPE_LABELS:
        _field_error(request, "type", _("Choose who is evaluated from the tabs."))
        status = 400
    subject_type = wanted_type if wanted_type in tables.TYPE_LABELS else default_type(v)
    if types and subject_type not in types:
        subject_type = types[0]
    schemes = list(Scheme.objects.filter(is_active=True, subject_type=subject_type))
    code = request.GET.get("scheme", "")
    scheme = next((s for s in schemes if s.code == code), None) if code else (schemes[0] if schemes else None)
    if code and scheme is None:
        _field_error(request, "scheme", _("No active scheme %(code)s for this kind of subject.") % {"code": code})
        status = 400
    period = _period(request, request.GET.get("period"))
    if period is None:
        status = 400
    context = {
        "types": [{"code": t, "label": tables.TYPE_LABELS[t], "active": t == subject_type} for t in types],
        "subject_type": subject_type,
        "schemes": schemes,
        "scheme": scheme,
        "period": period,
        "period_key": request.GET.get("period", "") if period is None else period.key,
        "period_links": _period_links(period),
        "month_value": period.key if period is not None and len(period.key) == 7 else "",
    }
    if status == 200 and scheme is not None:
        sheet_ = sheet(request.user, scheme, period)
        table = tables.table(sheet_, request.GET.get("slice", ""), request.GET.get("level", ""))
        context.update(_state_context(request, sheet_, table))
    return render(request, "evaluation/ranking.html", context, status=status)


def _visible_report(request, pk) -> Report:
    _user_may_use(request)
    return get_object_or_404(Report.objects.select_related("scheme", "version", "published_by", "computed_by"), pk=pk)


def _report_period(report: Report) -> Period:
    return Period(report.period_key, report.period_start, report.period_end)


def _report_page(request, report: Report, status=200):
    sheet_ = sheet(request.user, report.scheme, _report_period(report), report)
    table = tables.table(sheet_, request.GET.get("slice", ""), request.GET.get("level", ""))
    revisions = Report.objects.filter(scheme=report.scheme, period_key=report.period_key).select_related(
        "published_by", "computed_by"
    )
    context = _state_context(request, sheet_, table)
    context["revisions"] = revisions.order_by("-revision", "-created_at")
    context["ranking_url"] = (
        reverse("evaluation:ranking")
        + "?"
        + urlencode({"type": report.scheme.subject_type, "scheme": report.scheme.code, "period": report.period_key})
    )
    return render(request, "evaluation/report.html", context, status=status)


@login_required
def report(request, pk):
    return _report_page(request, _visible_report(request, pk))


@login_required
@require_POST
def compute(request):
    """Compute a draft of an ended period: queued for the worker (evaluation.tasks), or computed in
    the request while that task does not exist."""
    _user_may_use(request)
    if not may_publish(request.user):
        raise Http404
    scheme = Scheme.objects.filter(code=request.POST.get("scheme", ""), is_active=True).first()
    back = reverse("evaluation:ranking")
    if scheme is None:
        _field_error(request, "scheme", pgettext("evaluation report", "Choose a scheme."))
        return redirect(back)
    back += "?" + urlencode(
        {"type": scheme.subject_type, "scheme": scheme.code, "period": request.POST.get("period", "")}
    )
    period = _required_period(request, request.POST.get("period"))
    if period is None:
        return redirect(back)
    if not period.has_ended:
        _field_error(
            request,
            "period",
            _("The period has not ended yet: it can be scored from %(d)s.") % {"d": period.end + timedelta(days=1)},
        )
        return redirect(back)
    if scheme.version_for(period.start) is None:
        _field_error(request, "period", _("The scheme has no version in force for this period."))
        return redirect(back)
    try:
        # The worker's task (evaluation/tasks.py, written beside the API). Until it exists, the draft
        # is computed here in the request: same action, same result, only slower for the user.
        from .tasks import compute_report_task
    except ImportError:
        compute_report_task = None
    try:
        if compute_report_task is not None:
            compute_report_task(scheme.pk, period.key, request.user.pk)
            messages.info(request, _("The draft is being computed in the background: reload in a moment."))
        else:
            actions.compute_report(scheme, period, request.user)
            messages.success(request, _("A new draft was computed."))
    except ValidationError as exc:
        _validation_messages(request, exc)
    return redirect(back)


@login_required
@require_POST
def publish(request, pk):
    report = _visible_report(request, pk)
    if not may_publish(request.user):
        raise Http404
    try:
        report = actions.publish_report(report, request.user, request.POST.get("reason", ""))
    except actions.Conflict as exc:
        messages.error(request, str(exc))
        report.refresh_from_db()
        return _report_page(request, report, status=409)
    except ValidationError as exc:
        _validation_messages(request, exc, default_field="reason")
        return _report_page(request, report, status=400)
    messages.success(request, _("Published as revision %(r)s.") % {"r": report.revision})
    return redirect("evaluation:report", pk=report.pk)


# ---------------------------------------------------------------------------------------------
# One subject, and the cases behind a figure


def _scheme_or_404(code) -> Scheme:
    return get_object_or_404(Scheme, code=code)


def _find_row(sheet_, key: str, slice_wanted: str):
    """The user's row of this subject: the wanted town slice, else the whole, else the first slice
    the user may see. None → the page answers 404 (not the user's to see)."""
    rows = [r for r in sheet_.rows if r.subject_key == key]
    if slice_wanted:
        return next((r for r in rows if tables.slice_code(r.slice_path) == slice_wanted), None)
    return next((r for r in rows if not r.slice_path), rows[0] if rows else None)


@login_required
def subject(request, scheme, key):
    _user_may_use(request)
    scheme = _scheme_or_404(scheme)
    period = _period(request, request.GET.get("period"))
    if period is None:
        period = last_month()
    sheet_ = sheet(request.user, scheme, period)
    row = _find_row(sheet_, key, request.GET.get("slice", ""))
    if row is None:
        raise Http404
    version = tables.version_of(sheet_)
    infos = tables.measure_infos(scheme.subject_type, period)
    cols = tables.columns(version, infos)

    def link(r, measure):
        return tables.cases_url(scheme.code, period.key, sheet_.report, r, measure)

    items = [{"column": c, "cell": c.cell(row, link)} for c in cols]
    measures = [
        {"info": info, "value": info.show(row.measures.get(code)), "url": link(row, code) if info.linkable else ""}
        for code, info in infos.items()
    ]
    history = subject_history(request.user, scheme, period, key)
    if history and history[-1]["score"] is None and (sheet_.report is None or row.slice_path):
        history[-1]["score"] = row.score  # this period's live (or town-slice) score, drawn as a draft
    chart = {
        "periods": [h["period"] for h in history],
        "scores": [h["score"] for h in history],
        "published": [h["published"] for h in history],
    }
    slices = [
        {"code": tables.slice_code(r.slice_path), "active": r is row, "path": r.slice_path}
        for r in sheet_.rows
        if r.subject_key == key
    ]
    names = tables.town_names(s["path"] for s in slices)
    for s in slices:
        s["label"] = names.get(s["path"], s["code"]) if s["path"] else pgettext("evaluation report", "Whole city")
    total = _ranked_count(request.user, sheet_, row)
    return render(
        request,
        "evaluation/subject.html",
        {
            "scheme": scheme,
            "period": period,
            "sheet": sheet_,
            "report": sheet_.report,
            "row": row,
            "grade": tables.grade_label(row.grade),
            "items": items,
            "measures": measures,
            "chart": chart,
            "slices": slices if len(slices) > 1 else [],
            "slice_label": next((s["label"] for s in slices if s["active"]), ""),
            "ranked": total,
            "version": version,
            "slice_code": tables.slice_code(row.slice_path),
            "type_label": tables.TYPE_LABELS.get(scheme.subject_type, ""),
            "ranking_url": reverse("evaluation:ranking")
            + "?"
            + urlencode({"type": scheme.subject_type, "scheme": scheme.code, "period": period.key}),
            "definitions": tables.definitions(cols),
        },
    )


def _ranked_count(user, sheet_, row) -> int | None:
    """How many subjects were ranked beside this one (its slice of a stored report); for a live
    sheet only known when the user sees every row."""
    if sheet_.report is not None:
        return sheet_.report.rows.filter(slice_path=row.slice_path, rank__isnull=False).count()
    v = viewer(user)
    if v.everything or any(p.count("/") == 1 for p in v.area_paths):  # city-wide: every whole row
        return len([r for r in sheet_.rows if r.slice_path == row.slice_path and r.rank])
    return None


@login_required
def cases(request):
    """The drill-down: exactly the cases one figure counts, among those the user may open."""
    _user_may_use(request)
    report = None
    if request.GET.get("report", "").isdigit():
        report = _visible_report(request, int(request.GET["report"]))
        scheme, period = report.scheme, _report_period(report)
    else:
        scheme = _scheme_or_404(request.GET.get("scheme", ""))
        period = _required_period(request, request.GET.get("period"))
        if period is None:
            return render(request, "evaluation/cases.html", {"scheme": scheme, "error": True}, status=400)
    sheet_ = sheet(request.user, scheme, period, report)
    row = _find_row(sheet_, request.GET.get("key", ""), request.GET.get("slice", ""))
    if row is None:
        raise Http404
    infos = tables.measure_infos(scheme.subject_type, period)
    info = infos.get(request.GET.get("measure", ""))
    if info is None or not info.linkable:
        _field_error(request, "measure", _("This figure has no list of cases."))
        return render(request, "evaluation/cases.html", {"scheme": scheme, "error": True}, status=400)
    found = cases_behind(request.user, sheet_, row, info.code).select_related("area").order_by("-created_at", "-pk")
    page = Paginator(found, CASES_PER_PAGE).get_page(request.GET.get("page"))
    figure = row.measures.get(info.code, 0)
    may_appeal = _may_appeal(request.user, scheme.subject_type, row.subject_key, period)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "evaluation/cases.html",
        {
            "scheme": scheme,
            "period": period,
            "report": sheet_.report,
            "row": row,
            "info": info,
            "figure": figure,
            "page": page,
            "count": page.paginator.count,
            "may_appeal": may_appeal,
            "appeal_url": reverse("evaluation:appeal_new"),
            "query": query.urlencode(),
            "subject_url": tables.subject_url(scheme.code, period.key, row),
            "type_label": tables.TYPE_LABELS.get(scheme.subject_type, ""),
            "slice_label": tables.town_names([row.slice_path]).get(row.slice_path, "") if row.slice_path else "",
        },
    )


def _may_appeal(user, subject_type, subject_key, period: Period) -> bool:
    """The subject itself, while the period's appeal window is open."""
    today = timezone.localdate()
    if not period.start <= today <= actions.appeal_deadline(period):
        return False
    return (subject_type, str(subject_key)) in subjects_of_user(user)


# ---------------------------------------------------------------------------------------------
# Leaders' monthly report (print) and XLSX


@login_required
def print_report(request, pk):
    """The leaders' report of a period: this report, then the stored report (published, else
    draft) of every other active scheme for the same period, each with its grades, items and
    definitions; a page of its own (no menu) with a print stylesheet for A4."""
    report = _visible_report(request, pk)
    period = _report_period(report)
    reports = [report]
    if request.GET.get("only") != "1":
        for scheme in Scheme.objects.filter(is_active=True).exclude(pk=report.scheme_id):
            other = current_report(scheme, period)
            if other is not None:
                reports.append(other)
    sections = []
    for r in reports:
        sheet_ = sheet(request.user, r.scheme, period, r)
        table = tables.table(sheet_)
        if r is not report and not table.lines:
            continue
        groups, grids_left_out = [table], False
        if r.scheme.subject_type == SubjectType.AREA:  # towns, then villages (grids: the pages and XLSX)
            present = [lv["code"] for lv in table.selection.levels]
            levels = [lv for lv in present if lv != Level.GRID]
            if levels:
                groups = [tables.table(sheet_, level_wanted=lv) for lv in levels]
                grids_left_out = Level.GRID in present
        sections.append(
            {
                "report": r,
                "table": table,
                "groups": groups,
                "grids_left_out": grids_left_out,
                "type_label": tables.TYPE_LABELS.get(r.scheme.subject_type, ""),
            }
        )
    return render(
        request,
        "evaluation/report_print.html",
        {
            "report": report,
            "period": period,
            "sections": sections,
            "printed_at": timezone.now(),
            "only": request.GET.get("only") == "1",
        },
    )


@login_required
def export(request, pk):
    report = _visible_report(request, pk)
    sheet_ = sheet(request.user, report.scheme, _report_period(report), report)
    content = report_export.workbook(sheet_)
    name = f"evaluation-{report.scheme.code}-{report.period_key.replace('~', '_')}-r{report.revision}.xlsx"
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
