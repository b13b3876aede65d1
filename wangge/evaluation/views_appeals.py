"""Appeal pages (申诉): the subject — a department for its department, a grid manager for themselves —
contests one case counted against it in a period (a reason, photos); the command center over the
case accepts (the case leaves the figures, or counts for the department that should have had it)
or refuses. Seen only by the subject's side and the deciders. Thin: every change goes through
appeals.file_appeal / decide_appeal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wangge.accounts.models import DEPARTMENT_ROLES, Department, User
from wangge.cases import roles as case_roles
from wangge.cases.actions.errors import TransitionRefused
from wangge.cases.models import Case, CasePhoto
from wangge.cases.photos import store_photo_or_none

from . import appeals, queries
from .actions import appeal_deadline
from .compute import context
from .indicators import SOURCES
from .models import Appeal, AppealStatus, Scheme, SubjectType
from .period import current_month, parse

PER_PAGE = 50
MAX_PHOTOS = 6


def _user_departments(user) -> list[int]:
    return [m.department_id for m in user.membership_list if m.department_id and m.role in DEPARTMENT_ROLES]


def my_appeals(user):
    """Appeals of the user's side: filed by them, for their department, or for them as a grid manager."""
    return Appeal.objects.filter(
        Q(filed_by=user) | Q(worker=user) | Q(department_id__in=_user_departments(user))
    ).distinct()


def visible_appeals(user):
    """The filer's side and the deciders: nobody else learns that an appeal exists (404)."""
    decidable = appeals.decidable_appeals(user).values("pk")
    return Appeal.objects.filter(Q(pk__in=my_appeals(user).values("pk")) | Q(pk__in=decidable))


def subject_label(subject_type: str, key: str) -> str:
    if subject_type == SubjectType.DEPARTMENT:
        return Department.objects.filter(code=key).values_list("name", flat=True).first() or key
    found = User.objects.filter(pk=int(key)).first() if key.isdigit() else None
    return (found.full_name or found.username) if found else key


def counted_in(subject_type: str, period, key: str, case_id: int) -> list:
    """The figures of the subject's period that count this case (one query per source)."""
    ctx = context(subject_type, period)
    found = []
    for source in SOURCES[subject_type]:
        if not source.links_cases:
            continue
        measures = [m for m in source.measures(ctx) if m.counts_cases]
        rows = source.rows(ctx).filter(source.subject_filter(key, "", ctx), **{source.case_field: case_id})
        counts = rows.aggregate(**source.aggregates(measures))
        found += [m for m in measures if counts.get(m.code)]
    return found


def _subject(request, params) -> tuple[str, str]:
    """(subject type, key) the user appeals for: the one named, if it is theirs (else 403)."""
    mine = appeals.subjects_of_user(request.user)
    if not mine:
        raise PermissionDenied(_("Only a department or a grid manager may appeal."))
    scheme = Scheme.objects.filter(code=params.get("scheme", "")).first()
    wanted_type = scheme.subject_type if scheme else params.get("type", "")
    key = params.get("key", "")
    for subject_type, subject_key in mine:
        if (not wanted_type or subject_type == wanted_type) and (not key or subject_key == key):
            return subject_type, subject_key
    raise PermissionDenied(_("You may appeal only for your own department or for yourself."))


def _case(user, value) -> Case:
    if not str(value).isdigit() or len(str(value)) > 18:
        raise Http404
    found = case_roles.visible_cases(user).select_related("area", "category", "matter_item").filter(pk=int(value))
    case = found.first()
    if case is None:
        raise Http404
    return case


def _errors(exc: ValidationError) -> dict:
    if not hasattr(exc, "error_dict"):
        return {"form": " ".join(exc.messages)}
    return {k: " ".join(v) for k, v in exc.message_dict.items()}


@login_required
@require_http_methods(["GET", "POST"])
def appeal_new(request):
    params = request.POST if request.method == "POST" else request.GET
    subject_type, key = _subject(request, params)
    case = _case(request.user, params.get("case", ""))
    period_key = params.get("period", "").strip()[:30] or current_month().key
    reason = params.get("reason", "").strip()
    photo_ids = [p for p in params.getlist("photo_ids") if p.isdigit()][:MAX_PHOTOS]
    errors, period = {}, None
    try:
        period = parse(period_key)
    except ValidationError as exc:
        errors.update(_errors(exc))
    status = 200
    if request.method == "POST":
        uploads = request.FILES.getlist("photos")
        if len(uploads) + len(photo_ids) > MAX_PHOTOS:
            errors["photos"] = _("At most %(n)s photos.") % {"n": MAX_PHOTOS}
            uploads = []
        for upload in uploads:
            try:
                stored = store_photo_or_none(request, upload, user=request.user)
            except ValidationError as exc:
                errors["photos"] = " ".join(exc.messages)
                continue
            if stored is not None:
                photo_ids.append(str(stored.pk))
        if not errors:
            try:
                appeal = appeals.file_appeal(request.user, subject_type=subject_type, subject_key=key,
                                             case_id=case.pk, period_key=period.key, reason=reason,
                                             photo_ids=photo_ids)  # fmt: skip
            except ValidationError as exc:
                errors.update(_errors(exc))
            except TransitionRefused as exc:
                raise PermissionDenied(str(exc)) from exc
            else:
                messages.success(request, _("Your appeal was filed; the command center will decide."))
                return redirect("evaluation:appeal", pk=appeal.pk)
        status = 400
    # Photos already uploaded stay with the form (an error must not make the user upload them again).
    kept = CasePhoto.objects.filter(pk__in=photo_ids, uploaded_by=request.user, case__isnull=True)
    context_ = {
        "case": case,
        "sees_case": True,
        "subject_type": subject_type,
        "subject_type_label": SubjectType(subject_type).label,
        "key": key,
        "subject_label": subject_label(subject_type, key),
        "scheme": params.get("scheme", ""),
        "period_key": period_key,
        "period": period,
        "deadline": appeal_deadline(period) if period else None,
        "counted_in": counted_in(subject_type, period, key, case.pk) if period else [],
        "reason": reason,
        "kept_photos": kept,
        "errors": errors,
        "max_photos": MAX_PHOTOS,
    }
    return render(request, "evaluation/appeals/new.html", context_, status=status)


STATUSES = [s.value for s in AppealStatus]


@login_required
def appeal_list(request):
    if not queries.may_use(request.user):
        raise PermissionDenied(_("The evaluation is for the command centers, departments and grid staff."))
    status = request.GET.get("status", "")
    status = status if status in STATUSES else ""
    period = request.GET.get("period", "").strip()[:30]
    decider = appeals.may_decide(request.user)

    def narrow(qs):
        qs = qs.select_related("case", "department", "worker", "filed_by", "reattribute_to")
        if status:
            qs = qs.filter(status=status)
        if period:
            qs = qs.filter(period_key=period)
        return qs.order_by("-filed_at", "-pk")

    mine = narrow(my_appeals(request.user))
    decidable = appeals.decidable_appeals(request.user)
    to_decide = narrow(decidable) if decider else Appeal.objects.none()
    periods = sorted(set(visible_appeals(request.user).values_list("period_key", flat=True)), reverse=True)
    context_ = {
        "mine": Paginator(mine, PER_PAGE).get_page(request.GET.get("mine_page")),
        "to_decide": Paginator(to_decide, PER_PAGE).get_page(request.GET.get("page")),
        "pending_count": decidable.filter(status=AppealStatus.PENDING).count() if decider else 0,
        "decider": decider,
        "may_file": bool(appeals.subjects_of_user(request.user)),
        "statuses": AppealStatus.choices,
        "periods": periods,
        "params": {"status": status, "period": period},
    }
    return render(request, "evaluation/appeals/list.html", context_)


@login_required
@require_http_methods(["GET", "POST"])
def appeal_detail(request, pk):
    found = visible_appeals(request.user).select_related(
        "case", "case__area", "department", "worker", "filed_by", "decided_by", "reattribute_to"
    )
    appeal = found.filter(pk=pk).first()
    if appeal is None:
        raise Http404
    may_decide = appeals.decidable_appeals(request.user).filter(pk=appeal.pk).exists()
    errors, status, posted = {}, 200, {}
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied(_("Only the command center over the case decides an appeal."))
        choice = request.POST.get("accept", "")
        posted = {"accept": choice, "note": request.POST.get("note", "").strip(),
                  "reattribute_to": request.POST.get("reattribute_to", "").strip()}  # fmt: skip
        try:
            appeals.decide_appeal(request.user, appeal.pk, accept={"1": True, "0": False}.get(choice),
                                  note=posted["note"], reattribute_to=posted["reattribute_to"] or None)  # fmt: skip
        except ValidationError as exc:
            errors, status = _errors(exc), 400
        except TransitionRefused as exc:  # 409: decided by someone else meanwhile
            messages.error(request, str(exc))
            status = exc.status
            appeal.refresh_from_db()
        else:
            messages.success(request, _("Decision saved; the filer is told."))
            return redirect("evaluation:appeal", pk=appeal.pk)
    sees_case = case_roles.visible_cases(request.user).filter(pk=appeal.case_id).exists()
    departments = []
    if may_decide and appeal.status == AppealStatus.PENDING and appeal.subject_type == SubjectType.DEPARTMENT:
        departments = case_roles.dispatchable_departments(appeal.case).exclude(pk=appeal.department_id)
    period = parse(appeal.period_key)
    pending = appeal.status == AppealStatus.PENDING
    context_ = {
        "appeal": appeal,
        "case": appeal.case,
        "period": period,
        "deadline": appeal_deadline(period),
        # While it waits: the figures the case is in (once accepted, it is in none of the subject's).
        "counted_in": counted_in(appeal.subject_type, period, appeal.subject_key, appeal.case_id) if pending else [],
        "subject_label": appeal.department.name if appeal.department_id else str(appeal.worker),
        "sees_case": sees_case,
        "photos": appeal.photos.all() if sees_case else [],
        "may_decide": may_decide and pending,
        "departments": departments,
        "errors": errors,
        "posted": posted,
    }
    return render(request, "evaluation/appeals/detail.html", context_, status=status)
