"""The portal's report pages (wangge/web/portal.py): a signed-in citizen or landlord files a report
(我要反映), follows their own reports (我的反映: status, the public steps only) and rates the outcome
once the case is closed, once."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wangge.accounts.models import Role
from wangge.core import ratelimit

from . import actions, queries
from .forms import EvaluateForm, ReportForm
from .models import Case, Channel, Status
from .views import _fresh_key, _report_from_form


def my_cases(user):
    """The cases this account reported (nobody else's, whatever their roles)."""
    return Case.objects.filter(reporter=user).select_related("category").order_by("-created_at", "-id")


def portal_channel(user) -> str:
    """A citizen reports as a citizen; a landlord who is not also a citizen, through the landlords' channel."""
    return Channel.LANDLORD if user.has_role(Role.LANDLORD) and not user.has_role(Role.CITIZEN) else Channel.CITIZEN_WEB


@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    """我要反映: the public report form, signed in: the case is the account's, the phone filled in."""
    user = request.user
    initial = {**_fresh_key(), "reporter_name": user.full_name, "reporter_phone": user.phone}
    form = ReportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and (limited := ratelimit.page_limit_key(request, "portal_report", f"user:{user.pk}")):
        return limited
    if request.method == "POST" and form.is_valid():
        case = _report_from_form(request, form, channel=portal_channel(user))
        if case is not None:
            messages.success(request, _("Your report was sent. Tracking number: %(t)s.") % {"t": case.tracking_number})
            return redirect("portal:report_detail", pk=case.pk)
    return render(request, "cases/report_page.html", {"form": form, "public": True, "portal": True})


@login_required
def reports(request):
    """我的反映: the user's reports with their status."""
    return render(request, "cases/portal_reports.html", {"cases": my_cases(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request, pk):
    """One of the user's reports: its public steps, and the rating once it is closed (once)."""
    case = get_object_or_404(my_cases(request.user), pk=pk)
    evaluate = EvaluateForm(request.POST or None)
    if request.method == "POST":
        if evaluate.is_valid():
            try:
                actions.transition(
                    case,
                    request.user,
                    "evaluate",
                    version=case.version,
                    satisfaction=evaluate.cleaned_data["satisfaction"],
                    note=evaluate.cleaned_data["comment"],
                )
            except actions.TransitionRefused as exc:
                evaluate.add_error(None, str(exc))
            except ValidationError as exc:
                evaluate.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _("Thank you for your rating."))
                return redirect("portal:report_detail", pk=case.pk)
        status = 400
    else:
        status = 200
    may_rate = case.status == Status.CLOSED and case.satisfaction is None
    photos = case.photos.filter(uploaded_by=request.user)  # their own; the staff's photos stay internal
    context = {"case": case, "view": queries.public_view(case), "evaluate": evaluate, "may_rate": may_rate}
    context["photos"] = photos
    return render(request, "cases/portal_report.html", context, status=status)
