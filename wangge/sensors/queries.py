"""Reading sensors for a user: the restricted queryset (API and pages alike), each sensor's last
reading, open alarm and state as annotations (one query for a whole page), the list's filters and
counts per state, a sensor's readings for its chart."""

from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, IntegerField, Max, Min, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wangge.areas.models import Area, under
from wangge.cases import queries as case_queries
from wangge.cases.models import OPEN_STATUSES
from wangge.insight import access

from .models import Reading, Sensor


class State(models.TextChoices):
    ALARM = "alarm", pgettext_lazy("sensor state", "Alarm")  # an open case it raised (actions.open_alarm)
    SILENT = "silent", pgettext_lazy("sensor state", "Silent")  # no reading for SENSOR_SILENT_HOURS
    NORMAL = "normal", pgettext_lazy("sensor state", "Normal")
    INACTIVE = "inactive", pgettext_lazy("sensor state", "Inactive")  # switched off: readings refused


# The state as a number, which is also the list's order: what needs attention first.
STATE_RANK = {State.ALARM: 0, State.SILENT: 1, State.NORMAL: 2, State.INACTIVE: 3}
RANK_STATE = {rank: state for state, rank in STATE_RANK.items()}


def sensors(user):
    """The sensors a user may see, pages and API alike: command-center staff only (PermissionDenied
    for others, the command pages' gate, insight.access), under the areas they command; with their
    area (not its boundary: a list would read every grid's outline) and matter item."""
    roots = access.command_areas(user)
    if not roots:
        raise PermissionDenied
    qs = Sensor.objects.select_related("area", "matter_item").defer("area__boundary")
    return qs.filter(reduce(or_, (under("area_path", r.path) for r in roots)))


def silent_since(now=None):
    """Readings older than this do not keep a sensor from being silent."""
    return (now or timezone.now()) - timedelta(hours=settings.SENSOR_SILENT_HOURS)


def with_state(qs, now=None):
    """Annotate last_value, last_at (the latest reading by measured time), alarm_case_id (the latest
    open case its alarms raised, as actions.open_alarm finds it) and state_rank (STATE_RANK), in
    the same query; set_states() names the state of the rows read."""
    last = Reading.objects.filter(sensor=OuterRef("pk")).order_by("-measured_at", "-id")
    alarm = Reading.objects.filter(sensor=OuterRef("pk"), case__status__in=OPEN_STATUSES).order_by("-case__created_at")
    qs = qs.annotate(
        last_value=Subquery(last.values("value")[:1]),
        last_at=Subquery(last.values("measured_at")[:1]),
        alarm_case_id=Subquery(alarm.values("case")[:1]),
    )
    rank = STATE_RANK
    return qs.annotate(
        state_rank=models.Case(
            When(alarm_case_id__isnull=False, then=Value(rank[State.ALARM])),
            When(is_active=False, then=Value(rank[State.INACTIVE])),
            When(Q(last_at__isnull=True) | Q(last_at__lt=silent_since(now)), then=Value(rank[State.SILENT])),
            default=Value(rank[State.NORMAL]),
            output_field=IntegerField(),
        )
    )


def set_states(rows):
    """sensor.state (a State) for each row of with_state()."""
    for sensor in rows:
        sensor.state = RANK_STATE[sensor.state_rank]
    return rows


def filter_sensors(qs, *, kind="", area="", q="", state=""):
    if kind:
        qs = qs.filter(kind=kind)
    if area:
        path = Area.objects.filter(code=area).values_list("path", flat=True).first()
        qs = qs.filter(under("area_path", path)) if path else qs.none()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__contains=q))
    if state in STATE_RANK:
        qs = qs.filter(state_rank=STATE_RANK[state])
    return qs


def state_counts(qs) -> dict:
    """{state: n, "all": n} of an annotated queryset, in one query."""
    counts = {s.value: 0 for s in State}
    for rank, n in qs.order_by().values_list("state_rank").annotate(n=Count("id")):
        counts[RANK_STATE[rank].value] = n
    counts["all"] = sum(counts.values())
    return counts


CHART_DAYS = 7
CHART_MAX_POINTS = 5000


def chart_readings(sensor, now=None) -> tuple[list, bool]:
    """([local time "Y-m-d H:M:S", value, is_alarm] of the last CHART_DAYS days, oldest first;
    whether it was cut to the latest CHART_MAX_POINTS)."""
    since = (now or timezone.now()) - timedelta(days=CHART_DAYS)
    rows = list(
        sensor.readings.filter(measured_at__gte=since)
        .order_by("-measured_at", "-id")
        .values_list("measured_at", "value", "is_alarm")[: CHART_MAX_POINTS + 1]
    )
    cut = len(rows) > CHART_MAX_POINTS
    points = [
        [timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S"), value, alarm]
        for at, value, alarm in reversed(rows[:CHART_MAX_POINTS])
    ]
    return points, cut


def raised_cases(user, sensor, limit=5):
    """The latest cases this sensor's alarms raised, of those the user may see."""
    case_ids = Reading.objects.filter(sensor=sensor, case__isnull=False).values("case")
    return case_queries.case_list(user).filter(pk__in=case_ids).order_by("-created_at")[:limit]


def missing_readings(rows, now=None) -> dict[int, int | None]:
    """{sensor id: readings missing in the last SENSOR_GAP_WINDOW_HOURS} for these sensors, in one
    query. By the sensor's message counter when its readings carry one (seq 5 after seq 2: two
    missing, even when the broker dropped them), else by how often it should report (report_every;
    the last expected one may still be on its way); None for a sensor with neither."""
    now = now or timezone.now()
    since = now - timedelta(hours=settings.SENSOR_GAP_WINDOW_HOURS)
    sensors = {s.pk: s for s in rows}
    figures = {
        row["sensor"]: row
        for row in Reading.objects.filter(sensor__in=list(sensors), measured_at__gte=since)
        .values("sensor")
        .annotate(n=Count("id"), seqs=Count("seq", distinct=True), low=Min("seq"), high=Max("seq"))
    }
    missing = {}
    for pk, sensor in sensors.items():
        row = figures.get(pk) or {"n": 0, "seqs": 0}
        if row["seqs"]:
            missing[pk] = row["high"] - row["low"] + 1 - row["seqs"]
        elif sensor.report_every:
            start = max(since, sensor.created_at)
            expected = int((now - start).total_seconds() // sensor.report_every)
            missing[pk] = max(0, expected - 1 - row["n"])
        else:
            missing[pk] = None
    return missing


def set_missing(rows, now=None):
    """sensor.missing (missing_readings) for each row."""
    missing = missing_readings(rows, now)
    for sensor in rows:
        sensor.missing = missing[sensor.pk]
    return rows
