"""Field work pages: supervisors' list of workers' days, playback of one worker's day, and the
field workers' mobile app (an installable PWA that works offline)."""

import hashlib
import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie

from wangge.accounts.models import Membership, Role
from wangge.areas.models import Level
from wangge.cases.models import MatterItem
from wangge.registry.models import PersonType

from . import kpi
from .api import figures_of
from .mobile_text import mobile_texts
from .models import InspectionAnswer, TrackDay, WorkerPosition
from .queries import (
    checklist_names,
    filter_tasks,
    inspections_for,
    sees_tracks,
    tasks_for,
    visible_workers,
    worker_areas,
)


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.localdate()
    except ValueError as exc:
        raise Http404("bad day") from exc


@login_required
def track_list(request):
    """Every worker the user supervises, with the day's figures."""
    day = _day(request.GET.get("day"))
    # The areas' names only: a grid's boundary (GeoJSON) is the bulk of its row.
    memberships = Membership.objects.select_related("area").defer("area__boundary")
    workers = visible_workers(request.user).prefetch_related(Prefetch("memberships", queryset=memberships))
    workers = workers.order_by("username")
    days = {t.worker_id: t for t in TrackDay.objects.filter(day=day, worker__in=workers).defer("points")}
    positions = {p.worker_id: p for p in WorkerPosition.objects.filter(worker__in=workers)}
    rows = [
        {
            "worker": w,
            "areas": [m.area for m in w.memberships.all() if m.area_id and m.role == "grid_manager"],
            "figures": figures_of(days.get(w.pk)),
            "last_seen": positions[w.pk].at if w.pk in positions else None,
        }
        for w in workers
    ]
    return render(request, "patrol/track_list.html", {"day": day, "rows": rows})


@login_required
def track_playback(request, username: str, day: str):
    worker = get_object_or_404(visible_workers(request.user), username=username)
    return render(request, "patrol/track_playback.html", {"worker": worker, "day": _day(day)})


# The mobile app (PWA) for field workers: one shell page, its service worker and manifest.
MOBILE_ASSETS = ["patrol/mobile/app.js", "patrol/mobile/app.css", "patrol/mobile/icon.svg"]
# The task map's files: not part of the first load (fetched when the map is first opened), but kept
# by the service worker with the shell, so the map opens at once and offline.
MAP_ASSETS = ["vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js", "web/geo.js"]


@lru_cache(maxsize=1)
def mobile_cache_version() -> str:
    """Changes whenever an asset of the app changes, so phones install the new service worker."""
    digest = hashlib.sha256()
    for asset in MOBILE_ASSETS + MAP_ASSETS:
        digest.update(Path(finders.find(asset)).read_bytes())
    return digest.hexdigest()[:12]


@login_required
@ensure_csrf_cookie  # the app's writes send it back as X-CSRFToken
def mobile_app(request):
    worker = request.user
    matter_items = MatterItem.objects.filter(is_active=True).order_by("code").values("code", "name")
    grid = next((a for a in worker_areas(worker)), None)
    config = {
        "username": worker.username,
        "name": str(worker),
        "isFieldWorker": worker.has_role(Role.GRID_MANAGER),
        "gridCode": grid.code if grid else "",
        "gridName": grid.name if grid else "",
        "positionIntervalSeconds": settings.PATROL_POSITION_INTERVAL_SECONDS,
        "matterItems": list(matter_items),
        "personTypes": [list(choice) for choice in PersonType.choices],
        "map": {
            "css": static(MAP_ASSETS[0]),
            "scripts": [static(a) for a in MAP_ASSETS[1:]],
            "tileUrl": settings.MAP_TILE_URL,
            "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
            "tileCrs": settings.MAP_TILE_CRS,
        },
        "serviceWorker": reverse("patrol:mobile_service_worker"),
        "scope": reverse("patrol:mobile_app"),
    }
    context = {"config": config, "texts": mobile_texts(), "assets": MOBILE_ASSETS}
    return render(request, "patrol/mobile/app.html", context)


def mobile_service_worker(request):
    shell = [reverse("patrol:mobile_app")] + [static(a) for a in MOBILE_ASSETS + MAP_ASSETS]
    body = render_to_string("patrol/mobile/sw.js", {"version": mobile_cache_version(), "shell": json.dumps(shell)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # the browser checks for a new worker on every visit
    return response


def mobile_manifest(request):
    return JsonResponse(
        {
            "name": _("wangge · grid manager"),
            "short_name": _("Grid work"),
            "lang": "zh-CN",
            "start_url": reverse("patrol:mobile_app"),
            "scope": reverse("patrol:mobile_app"),
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0f2a5c",
            "icons": [{"src": static("patrol/mobile/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        },
        content_type="application/manifest+json",
    )


TASK_LIST_LIMIT = 500  # rows on the page; the counts above the list are of all the tasks


@login_required
def task_list(request):
    """Inspection tasks of the user's areas, the highest risk class first; supervisors see their workers' backlog."""
    today = timezone.localdate()
    due = "today" if request.GET.get("due") == "today" else ""
    all_tasks = filter_tasks(tasks_for(request.user), due, today)
    tasks = list(all_tasks[:TASK_LIST_LIMIT])
    names = checklist_names()
    for task in tasks:
        task.checklist_name = names.get(task.checklist_code, task.checklist_code)
    counts = all_tasks.order_by().aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    return render(request, "patrol/task_list.html", {"tasks": tasks, "today": today, "due": due, **counts})


@login_required
def inspection_detail(request, pk: int):
    inspection = get_object_or_404(
        inspections_for(request.user).select_related("checklist", "inspector", "building", "rental", "place"), pk=pk
    )
    answers = inspection.answers.select_related("item", "case", "photo")
    return render(request, "patrol/inspection_detail.html", {"inspection": inspection, "answers": answers})


@login_required
def inspection_photo(request, pk: int, answer_id: int):
    """The proof photo of a corrected item, for those who may see the inspection."""
    inspection = get_object_or_404(inspections_for(request.user), pk=pk)
    answer = get_object_or_404(InspectionAnswer, inspection=inspection, pk=answer_id, photo__isnull=False)
    return FileResponse(answer.photo.image.open("rb"), content_type="image/jpeg")


LEVEL_CHOICES = [Level.TOWN, Level.VILLAGE, Level.GRID]


def _period(request) -> tuple[date, date]:
    today = timezone.localdate()
    try:
        start = date.fromisoformat(request.GET.get("start") or today.replace(day=1).isoformat())
        end = date.fromisoformat(request.GET.get("end") or today.isoformat())
    except ValueError as exc:
        raise Http404("bad date") from exc
    return (start, end) if start <= end else (end, start)


@login_required
def figures(request):
    """Field work figures of a period: areas and workers ranked by inspection rate."""
    if not sees_tracks(request.user):
        raise Http404
    start, end = _period(request)
    level = request.GET.get("level") if request.GET.get("level") in LEVEL_CHOICES else Level.VILLAGE
    context = {
        "start": start,
        "end": end,
        "level": level,
        "levels": [(lv, Level(lv).label) for lv in LEVEL_CHOICES],
        "areas": kpi.area_rows(request.user, level, start, end),
        "workers": kpi.worker_rows(request.user, start, end),
    }
    return render(request, "patrol/figures.html", context)
