"""Sensor pages for the command centers: the sensors of the user's jurisdiction with their state
(alarm, silent, normal, inactive), and one sensor with its readings. Read only: sensors are set up
in the admin, readings come through actions.record_reading."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from wangge.cases import queries as case_queries
from wangge.insight import access

from . import queries
from .models import Kind
from .queries import State

PER_PAGE = 50
FILTERS = ["state", "kind", "area", "q"]


@login_required
def sensor_list(request):
    widest = access.area_for(request.user, None)  # the map's outline (403 as queries.sensors for others)
    params = {f: request.GET.get(f, "").strip() for f in FILTERS}
    if params["state"] not in queries.STATE_RANK:
        params["state"] = ""
    sensors = queries.with_state(queries.sensors(request.user))
    without_state = queries.filter_sensors(sensors, kind=params["kind"], area=params["area"], q=params["q"])
    counts = queries.state_counts(without_state)
    rows = queries.filter_sensors(without_state, state=params["state"]).order_by("state_rank", "code")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = queries.set_missing(queries.set_states(list(page.object_list)))
    query = request.GET.copy()
    query.pop("page", None)  # the pager's
    tab_query = query.copy()
    tab_query.pop("state", None)  # the state tabs'
    tabs = [("", _("All"), counts["all"])] + [(s.value, s.label, counts[s.value]) for s in State]
    points = [
        {
            "code": s.code,
            "name": s.name,
            "lat": s.lat,
            "lng": s.lng,
            "state": s.state.value,
            "url": reverse("sensors:detail", args=[s.code]),
        }
        for s in page.object_list
        if s.lat is not None and s.lng is not None
    ]
    return render(
        request,
        "sensors/list.html",
        {
            "page": page,
            "params": params,
            "query": query.urlencode(),
            "tab_query": tab_query.urlencode(),
            "tabs": tabs,
            "kinds": Kind.choices,
            "points": points,
            "outline": params["area"] if params["area"] and points else widest.code,  # the map's boundaries
            "silent_hours": settings.SENSOR_SILENT_HOURS,
            "gap_hours": settings.SENSOR_GAP_WINDOW_HOURS,
        },
    )


@login_required
def sensor_detail(request, code):
    found = queries.with_state(queries.sensors(request.user).select_related("address")).filter(code=code)
    sensor = queries.set_missing(queries.set_states(list(found)))
    if not sensor:
        raise Http404
    sensor = sensor[0]
    cases = list(queries.raised_cases(request.user, sensor))
    open_case = None
    if sensor.alarm_case_id:  # the case its alarm keeps open (actions.open_alarm), if the user may see it
        open_case = next((c for c in cases if c.pk == sensor.alarm_case_id), None) or (
            case_queries.case_list(request.user).filter(pk=sensor.alarm_case_id).first()
        )
    points, cut = queries.chart_readings(sensor)
    chart = {"points": points, "threshold": sensor.threshold, "metric": sensor.metric}
    return render(
        request,
        "sensors/detail.html",
        {
            "sensor": sensor,
            "cases": cases,
            "open_case": open_case,
            "chart": chart,
            "chart_cut": cut,
            "chart_days": queries.CHART_DAYS,
            "readings": sensor.readings.select_related("case").order_by("-measured_at", "-id")[:20],
            "point": json.dumps([sensor.lat, sensor.lng]) if sensor.lat is not None else "",
            "silent_hours": settings.SENSOR_SILENT_HOURS,
            "gap_hours": settings.SENSOR_GAP_WINDOW_HOURS,
        },
    )
