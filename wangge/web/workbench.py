"""The workbench (工作台): what waits for this user now, one panel per kind of work of their roles.

A panel is counts (tiles) and a short list, each tile linking to the list page with the filter
that shows exactly its rows: a tile's count is computed from the very queryset its list page
builds from the same address parameters (cases.queries.queue_cases, the department queue's
filter_assignments, patrol's filter_tasks, sensors' filter_sensors). Every panel is one query for
its counts (one UNION ALL of COUNTs) and one for its rows (tests/test_workbench.py counts them).
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import Role
from wangge.callbacks.roles import CALLBACK_ROLES
from wangge.cases import queries as case_queries
from wangge.cases import roles as case_roles
from wangge.cases.models import Severity
from wangge.summons.queries import SUMMONING_ROLES

# Roles that have a portal of their own (citizens, landlords), not the staff workbench.
PERSONAL_ROLES = {Role.LANDLORD, Role.CITIZEN}
ROWS = 5


@dataclass
class Tile:
    key: str
    label: str
    count: int
    url: str
    alert: bool = False  # red when there is any: late work


@dataclass
class Row:
    url: str
    title: str
    text: str = ""
    meta: str = ""
    alert: bool = False
    urgent: bool = False


@dataclass
class Panel:
    key: str
    title: str
    tiles: list[Tile] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    more_url: str = ""
    empty: str = ""
    template: str = ""  # a panel drawn by its own template (the phone's outbox)
    note: str = ""


def count_each(querysets: dict) -> dict[str, int]:
    """{key: queryset.count()} for several querysets (of one model or of several) in one query."""
    parts = [
        qs.order_by().annotate(_tile=Value(i, output_field=IntegerField())).values("_tile").annotate(n=Count("pk"))
        for i, qs in enumerate(querysets.values())
    ]
    if not parts:
        return {}
    keys = list(querysets)
    counts = dict.fromkeys(keys, 0)
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for row in combined.order_by():
        counts[keys[row["_tile"]]] = row["n"]
    return counts


def is_personal_only(user) -> bool:
    """Only personal roles (a landlord, a citizen): they get their portal, not the workbench."""
    roles = {role for role, _path, _department in case_roles.memberships_of(user)}
    return not user.is_superuser and bool(roles) and roles <= PERSONAL_ROLES


def panels_for(user) -> list[Panel]:
    """The panels of each role the user holds, in the order of the working day's chain."""
    roles = {role for role, _path, _department in case_roles.memberships_of(user)}
    panels = []
    if roles & set(case_roles.DISPATCHER_LEVELS):
        panels.append(dispatcher(user))
    if roles & SUMMONING_ROLES:
        panels.append(open_summonses(user))
    if Role.DEPARTMENT_HANDLER in roles:
        panels += [department(user), summonses_to_report(user)]
    if Role.GRID_MANAGER in roles:
        panels += [to_verify(user), inspections_today(user), phone_outbox(user)]
    if Role.LEADER in roles:
        panels += [leader(user), *month_figures(user)]
    if set(map(str, roles)) & (CALLBACK_ROLES - {Role.ADMIN}):
        panels.append(callbacks(user))
    if Role.ADMIN in roles or user.is_superuser:
        panels.append(administrator(user))
    return panels


# ---------------------------------------------------------------------------------------------
# Cases: the queue's filters


def queue_url(params: dict) -> str:
    return reverse("case_queue") + "?" + urlencode(params)


def case_rows(cases) -> list[Row]:
    return [
        Row(
            url=reverse("case_detail", args=[c.pk]),
            title=c.number or c.tracking_number,
            text=c.description[:40],
            meta=f"{c.get_status_display()} · {c.area.name} · {timezone.localtime(c.created_at):%m-%d %H:%M}",
            alert=c.is_overdue,
            urgent=c.severity == Severity.URGENT,
        )
        for c in cases
    ]


def _case_tiles(user, specs) -> tuple[list[Tile], dict]:
    """Tiles for (key, label, queue parameters, alert) specs; also each tile's queryset."""
    querysets = {key: case_queries.queue_cases(user, params) for key, _label, params, _alert in specs}
    counts = count_each(querysets)
    tiles = [Tile(key, label, counts[key], queue_url(params), alert) for key, label, params, alert in specs]
    return tiles, querysets


def _urgent_first(querysets: dict):
    """The rows of all tiles together (OR of their filters), the most urgent first: the open tab's order."""
    combined = None
    for qs in querysets.values():
        combined = qs if combined is None else combined | qs
    return combined.order_by("-is_overdue", "dispatch_deadline", "-created_at")[:ROWS]


def dispatcher(user) -> Panel:
    """What waits at the dispatcher's command level (the queue's "mine" filter)."""
    mine = {"mine": "1"}
    specs = [
        ("register", _("New reports to register"), {"status": "reported", **mine}, False),
        ("dispatch", _("To dispatch"), {"status": "registered", **mine}, False),
        ("dispatch_overdue", _("Not dispatched in time"), {"status": "open", "dispatch_overdue": "1", **mine}, True),
        # A return waits for the decision even on a closed case (it counts in the evaluation).
        ("returns", _("Returned by departments"), {"status": "all", "returns": "1", **mine}, False),
        ("extensions", _("Asking for more time"), {"status": "handling", "extensions": "1", **mine}, False),
        ("duplicates", _("Likely duplicates"), {"status": "open", "duplicates": "1", **mine}, False),
    ]
    tiles, querysets = _case_tiles(user, specs)
    return Panel(
        "dispatcher",
        pgettext_lazy("workbench", "Dispatch"),
        tiles,
        case_rows(_urgent_first(querysets)),
        more_url=queue_url({"status": "open", **mine}),
        empty=_("Nothing waits for your decision."),
    )


def leader(user) -> Panel:
    specs = [
        ("urgent", _("Urgent, open"), {"status": "open", "severity": Severity.URGENT}, False),
        ("overdue", _("Overdue, open"), {"status": "open", "overdue": "1"}, True),
    ]
    tiles, querysets = _case_tiles(user, specs)
    return Panel(
        "leader",
        _("Urgent and overdue"),
        tiles,
        case_rows(_urgent_first(querysets)),
        more_url=queue_url({"status": "open", "overdue": "1"}),
        empty=_("No urgent or overdue case in your jurisdiction."),
    )


def _grid_params(user) -> dict:
    """A grid manager who also holds a wider role (a village dispatcher, say) sees more cases than
    their grid: the queue is narrowed to the grid then (one area, else the whole jurisdiction)."""
    roles = case_roles.memberships_of(user)
    grids = {path for role, path, _d in roles if role == Role.GRID_MANAGER and path}
    wider = any(role != Role.GRID_MANAGER and path for role, path, _d in roles) or user.is_superuser
    if wider and len(grids) == 1:
        return {"area": next(iter(grids)).rstrip("/").rsplit("/", 1)[-1]}
    return {}


def to_verify(user) -> Panel:
    params = {"status": "verifying", **_grid_params(user)}
    cases = case_queries.queue_cases(user, params)
    counts = count_each({"verify": cases})
    return Panel(
        "verify",
        _("Cases to verify on site"),
        [Tile("verify", _("To verify"), counts["verify"], queue_url(params))],
        case_rows(cases.order_by("created_at")[:ROWS]),  # the longest waiting first
        more_url=queue_url(params),
        empty=_("No case waits for your verification."),
    )


# ---------------------------------------------------------------------------------------------
# Department handler: the department queue's filters


def department(user) -> Panel:
    base = case_queries.department_queue(user)
    labels = {
        "pending": (_("To accept"), False),
        "due_today": (_("Due today"), False),
        "overdue": (_("Overdue"), True),
        "rework": (_("Verification failed (rework)"), True),
    }
    counts = count_each({key: case_queries.filter_assignments(base, key) for key in labels})
    url = reverse("department_queue")
    tiles = [Tile(key, label, counts[key], f"{url}?show={key}", alert) for key, (label, alert) in labels.items()]
    rows = [
        Row(
            url=reverse("case_detail", args=[a.case_id]),
            title=a.case.number or "",
            text=a.case.description[:40],
            meta=_assignment_meta(a),
            alert=a.overdue_at is not None,
        )
        for a in base[:ROWS]
    ]
    return Panel("department", _("My department's tasks"), tiles, rows, more_url=url, empty=_("Nothing waiting."))


def _assignment_meta(a) -> str:
    meta = (
        f"{a.get_status_display()} · {a.department.name} · {_('Deadline')} {timezone.localtime(a.deadline):%m-%d %H:%M}"
    )
    return f"{meta} · {_('rework')} {a.rework_count}" if a.rework_count else meta


# ---------------------------------------------------------------------------------------------
# Summonses (吹哨报到): the dispatcher's open ones, the department's to report arrival to


def _summons_panel(user, key, title, specs, empty) -> Panel:
    from wangge.summons import queries as summons_queries

    now = timezone.now()
    base = reverse("summons:list")
    visible = summons_queries.visible(user)
    querysets = {tile: summons_queries.filter_list(visible, show, user, now) for tile, _label, show, _a in specs}
    counts = count_each(querysets)
    tiles = [Tile(tile, label, counts[tile], f"{base}?show={show}", alert) for tile, label, show, alert in specs]
    rows = [
        Row(
            reverse("summons:detail", args=[s.pk]),
            f"#{s.pk}",
            (s.reason or (s.case.description if s.case_id else ""))[:40],
            f"{s.address or s.area.name} · {_('Arrive by')} {timezone.localtime(s.arrive_by):%m-%d %H:%M}",
            s.arrive_by < now and s.n_arrived < s.n_departments,  # late only while someone is missing
        )
        for s in summons_queries.with_counts(querysets[specs[0][0]]).order_by("arrive_by", "id")[:ROWS]
    ]
    return Panel(key, title, tiles, rows, more_url=f"{base}?show={specs[0][2]}", empty=empty)


def open_summonses(user) -> Panel:
    specs = [
        ("open", pgettext_lazy("summons", "Open"), "open", False),
        ("overdue", _("Someone late"), "overdue", True),
    ]
    return _summons_panel(user, "summons", _("Open summonses"), specs, _("No open summons."))


def summonses_to_report(user) -> Panel:
    specs = [
        ("mine", _("To report arrival"), "mine", False),
        ("mine_overdue", _("Past the deadline"), "mine_overdue", True),
    ]
    return _summons_panel(user, "summons_arrival", _("Summonses to report to"), specs, _("No summons waits for you."))


# ---------------------------------------------------------------------------------------------
# Grid manager: inspections and the phone


def inspections_today(user) -> Panel:
    from wangge.patrol.queries import filter_tasks, tasks_for

    today = timezone.localdate()
    tasks = filter_tasks(tasks_for(user), "today", today)
    url = reverse("patrol:task_list") + "?due=today"
    counts = count_each({"today": tasks})
    rows = [
        Row(
            url=url,
            title=str(t.target or ""),
            text=t.get_target_kind_display(),
            meta=f"{t.due_date:%m-%d}",
            alert=t.due_date < today,
        )
        for t in tasks[:ROWS]
    ]
    tile = Tile("today", _("Due today or before"), counts["today"], url)
    return Panel("inspections", _("Today's inspections"), [tile], rows, more_url=url, empty=_("No inspections due."))


def phone_outbox(user) -> Panel:
    """Drawn in the browser: the field app's outbox lives in this browser's IndexedDB, if at all."""
    return Panel(
        "outbox",
        _("Not yet sent from the phone"),
        template="web/_outbox_panel.html",
        more_url=reverse("patrol:mobile_app"),
    )


# ---------------------------------------------------------------------------------------------
# Leader: this month's figures (insight's daily figures)


def month_figures(user) -> list[Panel]:
    from wangge.insight import access, figures

    period = figures.period_from("month")
    panels = []
    for area in access.command_areas(user):
        s = figures.summary(area, period)
        stats = reverse("dashboard") + "?" + urlencode({"area": area.code, "period": "month"})
        tiles = [
            Tile("reported", _("Reported"), s["total"], figures.cases_url(area, period)),
            Tile("closed", _("Closed"), s["closed"], figures.cases_url(area, period, status="closed")),
            Tile("overdue", _("Were overdue"), s["overdue"], figures.cases_url(area, period, overdue="1"), True),
        ]
        rows = [
            Row(stats, str(_("Closure rate")), _percent(s["closure_rate"])),
            Row(stats, str(_("On-time rate")), _percent(s["on_time_rate"])),
            Row(stats, str(_("Satisfied rate")), _percent(s["satisfied_rate"])),
        ]
        title = _("This month: %(area)s") % {"area": area.name}
        panels.append(Panel(f"figures-{area.code}", title, tiles, rows, more_url=stats))
    return panels


def _percent(value) -> str:
    return "—" if value is None else f"{value}%"


# ---------------------------------------------------------------------------------------------
# Callbacks (回访): the hotline desk's calls to citizens whose cases closed


def callbacks(user) -> Panel:
    from wangge.callbacks import queries as callback_queries

    ready, _later = callback_queries.queue(user)
    overdue, _later = callback_queries.queue(user, overdue=True)
    base = reverse("callbacks:queue")
    counts = count_each({"to_call": ready, "overdue": overdue})
    tiles = [
        Tile("to_call", pgettext_lazy("callback", "To call"), counts["to_call"], base),
        Tile("overdue", _("Overdue"), counts["overdue"], base + "?overdue=1", True),
    ]
    rows = [
        Row(
            reverse("callbacks:detail", args=[t.pk]),
            t.case.number or t.case.tracking_number,
            t.case.description[:60],
            f"{timezone.localtime(t.due_at):%m-%d %H:%M}",
            t.overdue_at is not None,
        )
        for t in ready[:ROWS]
    ]
    return Panel(
        "callbacks",
        _("Callbacks"),
        tiles,
        rows,
        more_url=base,
        empty=_("No callbacks to make."),
    )


# ---------------------------------------------------------------------------------------------
# Administrator: what failed


def administrator(user) -> Panel:
    from wangge.jobs.models import Job, State
    from wangge.notify.models import Notification, Status

    querysets, links, labels = {}, {}, {}
    if user.is_staff and user.has_perm("jobs.view_job"):
        querysets["jobs"] = Job.objects.filter(state=State.FAILED)
        links["jobs"] = reverse("admin:jobs_job_changelist") + "?state__exact=failed"
        labels["jobs"] = _("Failed jobs")
    if user.is_staff and user.has_perm("notify.view_notification"):
        querysets["notifications"] = Notification.objects.filter(status=Status.FAILED)
        links["notifications"] = reverse("admin:notify_notification_changelist") + "?status__exact=failed"
        labels["notifications"] = _("Failed notifications")
    silent = _silent_sensors(user)
    if silent is not None:
        querysets["sensors"] = silent
        links["sensors"] = reverse("sensors:list") + "?state=silent"
        labels["sensors"] = _("Silent sensors")
    counts = count_each(querysets)
    tiles = [Tile(k, labels[k], counts[k], links[k], True) for k in querysets]
    rows = []
    if "jobs" in querysets:
        rows = [
            Row(
                reverse("admin:jobs_job_change", args=[j.pk]),
                f"#{j.pk} {j.get_kind_display()}",
                j.message[:60],
                f"{timezone.localtime(j.created_at):%m-%d %H:%M}",
                True,
            )
            for j in querysets["jobs"].order_by("-created_at")[:ROWS]
        ]
    return Panel(
        "admin",
        pgettext_lazy("workbench", "System"),
        tiles,
        rows,
        more_url=links.get("jobs", ""),
        empty=_("Nothing failed recently."),
    )


def _silent_sensors(user):
    """The sensors list's silent tab, for command-center staff (others have no sensors page)."""
    from wangge.sensors import queries as sensor_queries

    try:
        sensors = sensor_queries.sensors(user)
    except PermissionDenied:
        return None
    return sensor_queries.filter_sensors(sensor_queries.with_state(sensors), state="silent")
