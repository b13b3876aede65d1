"""Watch list pages: the lists, one list's entries, the review queue of hits; screening on demand.
Only for users with the watch list permission (403 otherwise); hits only in the jurisdiction."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.accounts.resolve import resolve_one
from wangge.core.safeurl import safe_next

from . import actions
from .models import HitState, WatchList


def _allowed(request):
    if not actions.may_use(request.user):
        raise PermissionDenied


@login_required
def index(request):
    _allowed(request)
    lists = WatchList.objects.annotate(entry_count=Count("entries"))
    open_hits = actions.visible_hits(request.user).filter(state=HitState.OPEN)
    counts = dict(open_hits.values_list("entry__watch_list").annotate(n=Count("id")).order_by())
    rows = [(w, counts.get(w.pk, 0)) for w in lists]
    return render(request, "watch/index.html", {"rows": rows, "open_count": open_hits.count()})


@login_required
def list_detail(request, pk):
    _allowed(request)
    watch_list = get_object_or_404(WatchList, pk=pk)
    page = Paginator(watch_list.entries.all(), 100).get_page(request.GET.get("page"))
    return render(request, "watch/list_detail.html", {"watch_list": watch_list, "page": page})


@login_required
@require_POST
def screen(request):
    """Screen the whole people register against one list (or all): a background job."""
    _allowed(request)
    watch_list = None
    if request.POST.get("watch_list"):
        try:  # the city's lists (not tied to an area); an id that names no active list is a 404
            watch_list = resolve_one(WatchList.objects.filter(is_active=True), request.POST["watch_list"], "watch_list")
        except ValidationError:
            raise Http404 from None
    job = actions.queue_screening(request.user, watch_list)
    return redirect("jobs:detail", pk=job.pk)


@login_required
def hits(request):
    _allowed(request)
    state = request.GET.get("state", HitState.OPEN)
    qs = actions.visible_hits(request.user)
    if state in HitState.values:
        qs = qs.filter(state=state)
    if request.GET.get("list"):
        qs = qs.filter(entry__watch_list_id=request.GET["list"])
    if request.GET.get("q"):
        q = request.GET["q"].strip()
        qs = qs.filter(Q(entry__name__contains=q) | Q(person__name__contains=q))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "watch/hits.html", {"page": page, "state": state, "states": HitState.choices})


@login_required
@require_POST
def review(request, pk):
    _allowed(request)
    hit = get_object_or_404(actions.visible_hits(request.user), pk=pk)
    try:
        actions.review_hit(hit, request.user, request.POST.get("decision", ""), request.POST.get("note", ""))
        messages.success(request, _("Recorded: %(s)s.") % {"s": HitState(hit.state).label})
        status = None
    except actions.AlreadyReviewed as exc:
        messages.error(request, str(exc))
        status = 409
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        status = 400
    response = redirect(safe_next(request, request.POST.get("next"), "watch:hits"))
    if status and request.headers.get("HX-Request"):
        response.status_code = status
    return response
