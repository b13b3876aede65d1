"""Command pages: the live stream, the command map with its dispatch board, the dashboards with
their exports, the big screen and the recurring spots. Thin: parse, authorise, read or call the
cases `transition` action, render."""

import json
import threading
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.areas.models import Area
from wangge.cases import actions
from wangge.cases import queries as case_queries
from wangge.cases import roles as case_roles
from wangge.cases.models import Category

from . import access, export, figures, live, queries

# ---------------------------------------------------------------------------------------------
# Live events (server-sent events)

_stream_slots = threading.BoundedSemaphore(max(settings.LIVE_MAX_STREAMS, 1))


def _sse(event_id, kind, data) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@login_required
def live_stream(request):
    """Server-sent events of the cases the user may see. A stream is held open for at most
    LIVE_STREAM_SECONDS, and only LIVE_MAX_STREAMS at a time per process (each holds a thread of
    gunicorn's gthread worker); beyond that the answer is what is new now and the browser comes
    back after LIVE_POLL_RETRY_MS — short polling through the same EventSource. Reconnects carry
    Last-Event-ID, so nothing is missed in between; `reset` tells a page that was away longer than
    the broker keeps events to reload its data. `?poll=1` asks for short polling from the start."""
    broker = live.broker()
    user = request.user
    after = request.headers.get("Last-Event-ID") or request.GET.get("after") or ""
    # ?poll=1: a page that can wait a few seconds (the workbench) never takes a held stream.
    held = request.GET.get("poll") != "1" and _stream_slots.acquire(blocking=False)
    lifetime = settings.LIVE_STREAM_SECONDS if held else 0

    def events():
        nonlocal after
        try:
            retry = 1000 if held else settings.LIVE_POLL_RETRY_MS
            yield f"retry: {retry}\n\n"
            if not after:
                after = broker.head()
                yield _sse(after, "hello", {"held": held})
            deadline = time.monotonic() + lifetime
            while True:
                remaining = deadline - time.monotonic()
                found, gap = broker.read(after, timeout=max(0.0, min(15.0, remaining)))
                if gap:
                    yield _sse(found[-1][0] if found else after, "reset", {})
                for event_id, message in found:
                    after = event_id
                    if access.can_see_message(user, message):
                        yield _sse(event_id, message.get("type", "message"), _public(message))
                if time.monotonic() >= deadline:
                    return
                if not found:
                    yield ": keep-alive\n\n"
        finally:
            if held:
                _stream_slots.release()

    response = StreamingHttpResponse(events(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


def _public(message: dict) -> dict:
    """What the page gets: department ids only serve the visibility check."""
    return {k: v for k, v in message.items() if k != "departments"}


# ---------------------------------------------------------------------------------------------
# Command map and dispatch board


def _commander(request, code=None) -> Area:
    return access.area_for(request.user, code)


def _map_context(request, area):
    return {
        "area": area,
        "roots": access.command_areas(request.user),
        "ancestors": _visible_ancestors(request.user, area),
    }


@login_required
def command(request):
    area = _commander(request, request.GET.get("area"))
    board = queries.board(request.user, area)
    return render(
        request,
        "insight/command.html",
        {
            **_map_context(request, area),
            "board": board,
            "spot_settings": _spot_settings(),
            "heat_periods": {k: v for k, v in figures.PERIODS.items() if k != "custom"},
            "heat_categories": Category.objects.filter(parent__isnull=True, is_active=True).order_by("kind", "code"),
        },
    )


@login_required
def board_panel(request):
    area = _commander(request, request.GET.get("area"))
    return render(request, "insight/_board.html", {"area": area, "board": queries.board(request.user, area)})


def _panel_context(request, case, error=None):
    allowed = {t.action for t in actions.allowed_actions(request.user, case)}
    return {
        "case": case,
        "suggested": queries.suggested_department(case),
        "busy": set(
            case.assignments.exclude(status__in=["cancelled", "done", "returned"]).values_list(
                "department__code", flat=True
            )
        ),
        "can_dispatch": "dispatch" in allowed,
        "can_escalate": "escalate" in allowed,
        "can_merge": "merge" in allowed,
        "can_decide_return": "decide_return" in allowed,
        "returns_to_decide": queries.waiting_returns(case).select_related("department"),
        "duplicate": queries.open_duplicate(request.user, case),
        "nearest": queries.nearest_workers(request.user, case),
        "departments": case_roles.dispatchable_departments(case).order_by("code"),
        "assignments": case.assignments.select_related("department"),
        "error": error,
    }


@login_required
def case_panel(request, pk):
    if not access.is_commander(request.user):
        raise Http404
    case = get_object_or_404(case_queries.case_list(request.user), pk=pk)
    return render(request, "insight/_case_panel.html", _panel_context(request, case))


@login_required
@require_POST
def case_panel_act(request, pk):
    """One-click dispatch, escalate, merge (into the flagged duplicate's case, or a case number
    typed in) or decision on a return from the map and the board, through the cases `transition`
    action."""
    if not access.is_commander(request.user):
        raise Http404
    case = get_object_or_404(case_queries.case_list(request.user), pk=pk)
    action = request.POST.get("action", "")
    status, error = 200, None
    try:
        if action not in BOARD_ACTIONS:
            message = _("Only dispatch, escalate, merge or a decision on a return here; open the case for the rest.")
            raise ValidationError({"action": message})
        params = {"note": request.POST.get("note", "").strip()}
        if action == "dispatch":
            params["departments"] = request.POST.getlist("departments")
        if action == "decide_return":
            params["assignment"] = request.POST.get("assignment", "")
            if "approve" in request.POST:
                params["approve"] = request.POST["approve"] == "1"
        if action == "merge":
            params["into"] = _merge_target(request.user, request.POST.get("into", ""))
        case = actions.transition(case, request.user, action, version=int(request.POST.get("version", "")), **params)
    except actions.TransitionRefused as exc:
        error, status = str(exc), exc.status
    except ValidationError as exc:
        error, status = "; ".join(" ".join(v) for v in exc.message_dict.values()), 400
    except ValueError:
        error, status = _("The page is out of date: reload it."), 400
    case.refresh_from_db()
    context = _panel_context(request, case, error)
    context["done"] = None if error else actions.TRANSITIONS[action].label
    return render(request, "insight/_case_panel.html", context, status=status)


BOARD_ACTIONS = ("dispatch", "escalate", "merge", "decide_return")


def _merge_target(user, value: str) -> int:
    """The case to merge into: its id (the flagged duplicate's button) or a number typed in."""
    value = value.strip()
    if not value:
        raise ValidationError({"into": _("Choose the case to merge into.")})
    found = case_queries.case_list(user).filter(number=value).values_list("pk", flat=True).first()
    if found is None and value.isdigit() and len(value) < 12:
        found = case_queries.case_list(user).filter(pk=int(value)).values_list("pk", flat=True).first()
    if found is None:
        raise ValidationError({"into": _("No case %(n)s.") % {"n": value}})
    return found


def _spot_settings():
    return {
        "min_cases": settings.INSIGHT_SPOT_MIN_CASES,
        "radius_m": int(settings.INSIGHT_SPOT_RADIUS_M),
        "days": settings.INSIGHT_SPOT_DAYS,
    }


@login_required
def spots(request):
    area = _commander(request, request.GET.get("area"))
    found = queries.recurring_spots(request.user, area)
    numbers = dict(
        case_queries.case_list(request.user)
        .filter(pk__in=[i for s in found for i in s["case_ids"]])
        .values_list("pk", "number")
    )
    for s in found:
        s["cases"] = [(i, numbers.get(i, i)) for i in s["case_ids"]]
    # 未诉先办: what each spot was turned into (wangge.proactive), or the form to do it.
    from wangge.proactive import actions as proactive_actions
    from wangge.proactive import queries as proactive_queries

    proactive_queries.annotate_spots(found, settings.INSIGHT_SPOT_RADIUS_M)
    return render(
        request,
        "insight/spots.html",
        {
            "area": area,
            "spots": found,
            "spot_settings": _spot_settings(),
            "roots": access.command_areas(request.user),
            "may_act": proactive_actions.is_dispatcher(request.user),
        },
    )


# ---------------------------------------------------------------------------------------------
# Dashboards


def _period(request):
    return figures.period_from(request.GET.get("period", ""), request.GET.get("from", ""), request.GET.get("to", ""))


@login_required
def dashboard(request):
    area = _commander(request, request.GET.get("area"))
    period = _period(request)
    data = figures.dashboard(area, period)
    return render(
        request,
        "insight/dashboard.html",
        {
            "area": area,
            "period": period,
            "periods": figures.PERIODS,
            "data": data,
            "roots": access.command_areas(request.user),
            "ancestors": _visible_ancestors(request.user, area),
            "query": request.GET.urlencode(),
            "period_query": urlencode(
                {"from": period.start, "to": period.end} if period.key == "custom" else {"period": period.key}
            ),
        },
    )


def _visible_ancestors(user, area):
    roots = access.command_areas(user)
    return [a for a in area.ancestors() if any(a.path.startswith(r.path) for r in roots)]


@login_required
def dashboard_export(request, table):
    """A dashboard table as XLSX. The tables are small (children, departments, days), except the
    overdue cases: beyond EXPORT_SYNC_MAX_ROWS those go to the jobs app's case export in the
    background (progress and a download link on the job's page), never truncated."""
    area = _commander(request, request.GET.get("area"))
    period = _period(request)
    if table not in export.TABLES:
        raise Http404
    if table == "overdue" and figures.overdue_count(area) > settings.EXPORT_SYNC_MAX_ROWS:
        job = export.overdue_job(request.user, area)
        messages.info(request, _("The export is large: it is being prepared in the background."))
        return redirect("jobs:detail", pk=job.pk)
    content = export.workbook(table, area, period)
    name = f"{table}-{area.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def screen(request):
    area = _commander(request, request.GET.get("area"))
    return render(request, "insight/screen.html", {"area": area, "now": timezone.localtime()})
