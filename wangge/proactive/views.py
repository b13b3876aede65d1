"""未诉先办 pages: act on a spot (from /command/spots/) and the list of proactive work with its
effect (/command/proactive/). Thin: parse, authorise, call the action, render."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.cases.models import Category
from wangge.insight import access

from . import actions, queries
from .models import WorkKind

LIST_LIMIT = 200


def _back(request):
    area = request.POST.get("area") or request.GET.get("area") or ""
    return reverse("command_spots") + (f"?{urlencode({'area': area})}" if area else "")


@login_required
@require_POST
def act(request):
    """The spots page's "转为主动办理" form: on to the new work, or back with the reason."""
    access.area_for(request.user, request.POST.get("area") or None)  # 403 outside the command center
    fields = {f: request.POST.get(f, "") for f in ("category", "lat", "lng", "radius_m", "days", "kind", "note")}
    try:
        work = actions.act_on_spot(request.user, **fields)
    except actions.AlreadyActedOn as exc:
        messages.warning(request, _("This spot is already being acted on: see the work below."))
        return redirect(_to_list(request, exc.work))
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for ms in exc.message_dict.values() for m in ms))
        return redirect(_back(request))
    if work.kind == WorkKind.CASE:
        messages.success(request, _("Case %(n)s registered for this spot.") % {"n": work.case.number})
    else:
        messages.success(request, _("A spot check was sent to the grid managers."))
    return redirect(_to_list(request, work))


def _to_list(request, work):
    """The list of the area the dispatcher was looking at (else their widest), at the work's row."""
    area = request.POST.get("area") or ""
    query = f"?{urlencode({'area': area})}" if area else ""
    return reverse("proactive:list") + f"{query}#work-{work.pk}"


@login_required
def work_list(request):
    area = access.area_for(request.user, request.GET.get("area") or None)
    kind, state = request.GET.get("kind", ""), request.GET.get("state", "")
    category_id = request.GET.get("category", "")
    ascii_digits = category_id.isascii() and category_id.isdigit()  # "²".isdigit() is True too
    category_id = int(category_id) if ascii_digits and len(category_id) < 12 else None
    rows = queries.works(area, kind=kind, state=state, category_id=category_id)
    total = rows.count()
    works = list(rows[:LIST_LIMIT])
    for work in works:
        work.effect = queries.effect(work)
    queries.attach_inspections(works)
    used = queries.works(area).values_list("category_id", flat=True).distinct()
    return render(
        request,
        "proactive/list.html",
        {
            "area": area,
            "roots": access.command_areas(request.user),
            "works": works,
            "total": total,
            "params": {"kind": kind, "state": state, "category": category_id},
            "kinds": WorkKind.choices,
            "states": [("open", _("In progress")), ("done", _("Finished"))],
            "categories": Category.objects.filter(pk__in=list(used)).order_by("kind", "code"),
            "may_act": actions.is_dispatcher(request.user),
            "rules": queries.rules_over(area),
        },
    )
