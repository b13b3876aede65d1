"""Scheme pages: every user of the evaluation reads the schemes (what is scored, against which
target, since when, every version); administrators edit them on a form — rows of indicators,
weights and targets, rows of deductions and bonuses, grade bands — which saves a new version in
force from a chosen day, or add a scheme. Thin: the form becomes a scheme body, and
actions.save_scheme_version / create_scheme check it (scoring.check_body) and write it."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import zip_longest

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wangge.accounts.scope import is_admin

from . import actions, queries
from .indicators import INDICATORS, Context, indicators_for, measures_for
from .models import ReportStatus, Scheme, SchemeVersion, SubjectType
from .period import current_month
from .scoring import GRADES, WEIGHT_TOTAL, check_body

CODE_FORMAT = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
GRADE_CODES = ("excellent", "good", "pass")
DEFAULT_GRADES = {"excellent": 90, "good": 80, "pass": 60}


def _reader(user):
    if not queries.may_use(user):
        raise PermissionDenied(_("The evaluation is for the command centers, departments and grid staff."))


def _editor(user):
    if not is_admin(user):
        raise PermissionDenied(_("Only administrators edit evaluation schemes."))


def _num(value) -> str:
    """A number as people write it: 40, 0.5, 95 (no trailing zeros)."""
    return "" if value in (None, "") else f"{round(float(value), 4):g}"


def show_target(indicator, target) -> str:
    """A target as it is read: a rate in %, an average in its unit."""
    if indicator is None or target in (None, ""):
        return _num(target)
    if indicator.kind == "rate":
        return f"{_num(float(target) * 100)}%"
    return f"{_num(target)} {indicator.unit}".strip()


def describe(body: dict, subject_type: str) -> dict:
    """A version's content for the page: names and definitions instead of codes, and the measures
    each indicator is made of with their definitions (the 口径 in full)."""
    found = measures_for(subject_type, Context(current_month(), timezone.now()))

    def _measures(indicator) -> list:
        return [found[code][1] for code in indicator.linked_measures if code in found] if indicator else []

    items = []
    for item in body.get("items", []):
        ind = INDICATORS.get(item["indicator"])
        items.append({
            "name": ind.name if ind else item["indicator"],
            "definition": ind.definition if ind else "",
            "measures": _measures(ind),
            "weight": _num(item["weight"]),
            "target": show_target(ind, item["target"]),
            "higher": ind.higher_is_better if ind else True,
        })  # fmt: skip
    adjustments = []
    for adj in body.get("adjustments", []):
        ind = INDICATORS.get(adj["indicator"])
        points = float(adj["points"])
        adjustments.append({
            "name": ind.name if ind else adj["indicator"],
            "definition": ind.definition if ind else "",
            "measures": _measures(ind),
            "bonus": points > 0,
            "points": _num(abs(points)),
            "cap": _num(adj.get("cap")),
        })  # fmt: skip
    grades = body.get("grades") or {}
    bands = [(GRADES[code], _num(grades.get(code))) for code in GRADE_CODES if code in grades]
    return {
        "items": items,
        "weight_total": _num(sum(float(i["weight"]) for i in body.get("items", []))),
        "adjustments": adjustments,
        "grades": bands,
        "fail": GRADES["fail"],
        "pass_score": _num(grades.get("pass")),
        "flag_below": _num(body.get("flag_below")),
        "sms_heads": bool(body.get("sms_heads")),
    }


def _in_force(versions: list[SchemeVersion], day: date) -> SchemeVersion | None:
    started = [v for v in versions if v.valid_from <= day]
    return max(started, key=lambda v: (v.valid_from, v.number)) if started else None


@login_required
def scheme_list(request):
    _reader(request.user)
    today = timezone.localdate()
    groups = []
    schemes = Scheme.objects.prefetch_related("versions")
    for subject_type, label in SubjectType.choices:
        rows = []
        for scheme in schemes:
            if scheme.subject_type != subject_type:
                continue
            versions = list(scheme.versions.all())
            upcoming = sorted((v for v in versions if v.valid_from > today), key=lambda v: v.valid_from)
            rows.append({"scheme": scheme, "current": _in_force(versions, today),
                         "upcoming": upcoming[0] if upcoming else None})  # fmt: skip
        groups.append({"type": subject_type, "label": label, "rows": rows})
    return render(request, "evaluation/schemes/list.html", {"groups": groups, "may_edit": is_admin(request.user)})


@login_required
def scheme_detail(request, code):
    _reader(request.user)
    scheme = get_object_or_404(Scheme, code=code)
    today = timezone.localdate()
    versions = list(scheme.versions.select_related("created_by").order_by("-number"))
    current = _in_force(versions, today)
    shown = current or (versions[-1] if versions else None)
    wanted = request.GET.get("version", "")
    if wanted:
        shown = next((v for v in versions if str(v.number) == wanted), None)
        if shown is None:
            raise Http404
    context = {
        "scheme": scheme,
        "subject_label": SubjectType(scheme.subject_type).label,
        "versions": versions,
        "current": current,
        "shown": shown,
        "shown_state": _state(shown, current),
        "content": describe(shown.body, scheme.subject_type) if shown else None,
        "published_until": _published_until(scheme),
        "may_edit": is_admin(request.user),
    }
    return render(request, "evaluation/schemes/detail.html", context)


def _state(version, current) -> str:
    if version is None or version == current:
        return "current"
    return "upcoming" if current is None or version.valid_from > current.valid_from else "replaced"


def _published_until(scheme: Scheme):
    return scheme.reports.filter(status=ReportStatus.PUBLISHED).aggregate(m=Max("period_end"))["m"]


# ---- the form


@dataclass
class Row:
    """One row of the form as typed, with its errors ({"indicator": ..., "weight": ..., "row": ...})."""

    indicator: str = ""
    a: str = ""  # weight (items) or points (adjustments)
    b: str = ""  # target (items) or cap (adjustments)
    errors: dict = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """What the target is typed in: % for a rate, the unit of an average."""
        ind = INDICATORS.get(self.indicator)
        if ind is None:
            return ""
        return "%" if ind.kind == "rate" else str(ind.unit)


@dataclass
class SchemeForm:
    subject_type: str
    items: list[Row]
    adjustments: list[Row]
    grades: dict
    flag_below: str = ""
    sms_heads: bool = False
    valid_from: str = ""
    note: str = ""
    code: str = ""
    name: str = ""
    description: str = ""
    errors: dict = field(default_factory=dict)  # form-level fields: items, grades, valid_from, code...

    @property
    def weight_total(self) -> str:
        total = 0.0
        for row in self.items:
            try:
                total += float(row.a)
            except ValueError:
                pass
        return _num(total)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.items + self.adjustments)


def _text(post, name, limit=2000) -> str:
    return post.get(name, "").strip()[:limit]


def _rows(post, *names) -> list[Row]:
    """Rows from parallel lists of fields; rows left wholly empty are dropped."""
    rows = []
    for values in zip_longest(*(post.getlist(n) for n in names), fillvalue=""):
        values = [v.strip()[:40] for v in values]
        if any(values):
            rows.append(Row(*values))
    return rows


def form_from_post(post, subject_type: str) -> SchemeForm:
    return SchemeForm(
        subject_type=subject_type,
        items=_rows(post, "item_indicator", "item_weight", "item_target"),
        adjustments=_rows(post, "adj_indicator", "adj_points", "adj_cap"),
        grades={code: _text(post, f"grade_{code}", 20) for code in GRADE_CODES},
        flag_below=_text(post, "flag_below", 20),
        sms_heads=post.get("sms_heads") == "1",
        valid_from=_text(post, "valid_from", 20),
        note=_text(post, "note"),
        code=_text(post, "code", 60),
        name=_text(post, "name", 200),
        description=_text(post, "description"),
    )


def form_from_body(subject_type: str, body: dict, valid_from: date) -> SchemeForm:
    items = []
    for item in body.get("items", []):
        ind = INDICATORS.get(item["indicator"])
        target = float(item["target"]) * 100 if ind and ind.kind == "rate" else item["target"]
        items.append(Row(item["indicator"], _num(item["weight"]), _num(target)))
    adjustments = [Row(a["indicator"], _num(a["points"]), _num(a.get("cap"))) for a in body.get("adjustments", [])]
    grades = body.get("grades") or DEFAULT_GRADES
    return SchemeForm(
        subject_type=subject_type,
        items=items,
        adjustments=adjustments,
        grades={code: _num(grades.get(code)) for code in GRADE_CODES},
        flag_below=_num(body.get("flag_below")),
        sms_heads=bool(body.get("sms_heads")),
        valid_from=valid_from.isoformat(),
    )


def _percent(value: str):
    """A rate's target typed in % → the fraction the scheme stores (check_body judges the range)."""
    try:
        return float(value.rstrip("%").strip()) / 100
    except ValueError:
        return value


def body_of(form: SchemeForm) -> dict:
    items = []
    for row in form.items:
        ind = INDICATORS.get(row.indicator)
        target = _percent(row.b) if ind and ind.kind == "rate" else row.b
        items.append({"indicator": row.indicator, "weight": row.a, "target": target})
    return {
        "items": items,
        "adjustments": [{"indicator": r.indicator, "points": r.a, "cap": r.b} for r in form.adjustments],
        "grades": form.grades,
        "flag_below": form.flag_below,
        "sms_heads": form.sms_heads and form.subject_type == SubjectType.DEPARTMENT,
    }


ROW_KEY = re.compile(r"^(items|adjustments)\[(\d+)\](?:\.(\w+))?$")
COLUMN = {"indicator": "indicator", "weight": "a", "points": "a", "target": "b", "cap": "b"}


def put_errors(form: SchemeForm, errors: dict) -> None:
    """Errors of check_body and the actions ({field: messages}) next to their row or field."""
    for key, messages_ in errors.items():
        text = " ".join(str(m) for m in messages_) if isinstance(messages_, list) else str(messages_)
        match = ROW_KEY.match(key)
        if match:
            rows = form.items if match.group(1) == "items" else form.adjustments
            n, column = int(match.group(2)), match.group(3)
            if 1 <= n <= len(rows):
                row = rows[n - 1]
                text = _row_message(form, row, column, text)
                row.errors[COLUMN.get(column, "row")] = text
                continue
        form.errors[key if key in FORM_FIELDS else "form"] = text


FORM_FIELDS = {"items", "adjustments", "grades", "flag_below", "valid_from", "code", "name", "subject_type"}


def _row_message(form, row: Row, column: str | None, text: str) -> str:
    """The form's own words where it differs from the stored body: an empty select, targets in %."""
    if column == "indicator" and not row.indicator:
        return _("Choose an indicator.")
    ind = INDICATORS.get(row.indicator)
    if column == "target" and ind is not None and ind.kind == "rate":
        return _("A rate's target is a percentage above 0 and at most 100 (e.g. 95).")
    return text


def _valid_from(form: SchemeForm):
    try:
        return date.fromisoformat(form.valid_from)
    except ValueError:
        form.errors["valid_from"] = _("Give the day the version is in force from (a date).")
        return None


def _save(request, form: SchemeForm, save):
    """Check what the view can (the date; the body, to show its errors with the date's), then run
    the action, which checks again and writes; every error lands on the form, nothing is saved."""
    valid_from = _valid_from(form)
    body = body_of(form)
    try:
        check_body(form.subject_type, body)
    except ValidationError as exc:
        put_errors(form, exc.message_dict)
    if form.has_errors:
        return None
    try:
        return save(body, valid_from)
    except ValidationError as exc:
        put_errors(form, exc.message_dict if hasattr(exc, "error_dict") else {"form": exc.messages})
        return None


def _choices(subject_type: str) -> dict:
    indicators = indicators_for(subject_type)
    return {
        "scored": [i for i in indicators if i.kind in ("rate", "average")],
        "counts": [i for i in indicators if i.kind == "count"],
    }


def _form_page(request, template_context, form: SchemeForm, status=200):
    context = {
        **template_context,
        "form": form,
        "choices": _choices(form.subject_type),
        "grade_labels": [(code, GRADES[code], form.grades.get(code, "")) for code in GRADE_CODES],
        "weight_goal": WEIGHT_TOTAL,
        "is_department": form.subject_type == SubjectType.DEPARTMENT,
    }
    return render(request, "evaluation/schemes/form.html", context, status=status)


def _next_start(scheme: Scheme) -> date:
    """A new version's default first day: the next month, and after every published period."""
    today = timezone.localdate()
    start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    published = _published_until(scheme)
    return max(start, published + timedelta(days=1)) if published else start


@login_required
@require_http_methods(["GET", "POST"])
def scheme_edit(request, code):
    _editor(request.user)
    scheme = get_object_or_404(Scheme, code=code)
    latest = scheme.versions.order_by("-number").first()
    page = {"scheme": scheme, "subject_label": SubjectType(scheme.subject_type).label, "latest": latest,
            "published_until": _published_until(scheme)}  # fmt: skip
    if request.method == "GET":
        form = form_from_body(scheme.subject_type, latest.body if latest else {}, _next_start(scheme))
        return _form_page(request, page, form)
    form = form_from_post(request.POST, scheme.subject_type)

    def save(body, valid_from):
        return actions.save_scheme_version(scheme, body, valid_from, request.user, note=form.note)

    version = _save(request, form, save)
    if version is None:
        return _form_page(request, page, form, status=400)
    messages.success(request, _("Version %(n)s saved, in force from %(d)s.") % {"n": version.number,
                                                                                "d": version.valid_from})  # fmt: skip
    return redirect("evaluation:scheme", code=scheme.code)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_new(request):
    _editor(request.user)
    subject_type = (request.POST if request.method == "POST" else request.GET).get("type", "")
    if subject_type not in SubjectType.values:
        status = 400 if "type" in request.GET or request.method == "POST" else 200
        return render(request, "evaluation/schemes/new_type.html", {"types": SubjectType.choices,
                      "error": status == 400}, status=status)  # fmt: skip
    page = {"scheme": None, "subject_label": SubjectType(subject_type).label, "new": True}
    if request.method == "GET":
        today = timezone.localdate()
        form = form_from_body(subject_type, {"items": [], "grades": DEFAULT_GRADES}, today.replace(day=1))
        form.items = [Row()]
        return _form_page(request, page, form)
    form = form_from_post(request.POST, subject_type)
    if not CODE_FORMAT.match(form.code):
        form.errors["code"] = _("Use 2–40 lower-case letters, digits and hyphens (the code is in the page's address).")
    if not form.name or len(form.name) > 100:
        form.errors["name"] = _("Give the scheme a name (at most 100 characters).")

    def save(body, valid_from):
        return actions.create_scheme(form.code, form.name, subject_type, body, valid_from, request.user,
                                     description=form.description)  # fmt: skip

    scheme = _save(request, form, save)
    if scheme is None:
        return _form_page(request, page, form, status=400)
    messages.success(request, _("Scheme %(name)s created.") % {"name": scheme.name})
    return redirect("evaluation:scheme", code=scheme.code)
