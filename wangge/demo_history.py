"""Weeks of past work in the demo city, so that the evaluation (考核) has something to rank.

Six weeks (at the small and city scales) of cases in four villages of Houjie and Liaobu, handled by every
department, and of the grid managers' field work (GPS track days, inspection tasks done or missed).
Everything goes through the real actions — `report_case`, `transition`, the deadline checker, the
sensors' `record_reading`, the patrol's `record_inspection` and `record_positions` — with the clock
moved (time-machine) to each step's moment, so created_at, deadlines on the working-time calendar,
overdue marks, notifications, change records and closed_at are what users would have produced.

A simulation: every case is a story (a generator) that does one step and says when it wants the
next; a queue runs the stories in time order. Before each step the deadline checker runs at every
minute tick where something fell due (as the worker would), and the outbox is delivered.

Each department has its own profile (one good, one slow, one that returns a lot, one whose work
often fails verification…), each dispatcher their own pace and each grid manager their own diligence,
so the rankings spread. Deterministic: random.Random with a fixed seed (only the random tracking
numbers differ), and the dates follow today. Idempotent: nothing is added when history cases (their
idempotency keys carry HISTORY_KEY) exist. A step that an action refuses (a state this simulation did
not foresee, on some day's calendar) ends that case's story where it is, so the demo is still built;
the tests run strict.
"""

import heapq
import io
import itertools
import math
import random
import time as wallclock
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import shapely
import time_machine
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from PIL import Image
from shapely.geometry import shape

from wangge.accounts import actions as account_actions
from wangge.accounts.models import Department, Role, User
from wangge.areas.models import Area, Level
from wangge.cases.actions import (
    TRANSITIONS,
    Report,
    check_deadlines,
    evaluate_by_tracking_number,
    report_case,
    transition,
)
from wangge.cases.models import (
    ACTIVE_ASSIGNMENT,
    COMMAND_LEVELS,
    Assignment,
    AssignmentStatus,
    Case,
    CaseEvent,
    Channel,
    ExtensionStatus,
    Outcome,
    Severity,
    Status,
)
from wangge.cases.photos import store_photo
from wangge.cases.roles import DISPATCHER_LEVELS
from wangge.notify import actions as notify
from wangge.notify.models import Channel as NotificationChannel
from wangge.notify.models import Notification
from wangge.registry.demo import name as person_name
from wangge.registry.demo import phone as random_phone
from wangge.worktime.calendar import is_working_day

HISTORY_KEY = "demo-history"  # in the idempotency key of every case the history reports
HISTORY_SCALES = ("small", "city")
SEED = 20260601
USER_PHONES = 13800010000  # the history's users get 13800010001, 13800010002…


@dataclass(frozen=True)
class Options:
    days: int = 42  # how far back the history starts
    cases_per_day: float = 8  # reports on an ordinary working day (inspections, sensors, repeats add theirs)
    seed: int = SEED
    # (town, number of its first villages with grids): the villages the history happens in
    villages: tuple = (("441900122", 2), ("441900111", 2))
    patrol: bool = True  # track days and inspections of the grid managers
    strict: bool = False  # a step refused by an action stops the build (tests), not only its story


# ---------------------------------------------------------------------------------------------
# Who works how


@dataclass(frozen=True)
class DepartmentProfile:
    accept_hours: tuple[float, float]  # dispatch → accepted
    late: float  # share of its work reported back after the deadline
    returns: float  # share of the cases that are its own that it still returns ("not ours")
    return_upheld: float  # share of those returns the dispatcher accepts
    extension: float  # share of its work it asks more time for
    rework: float  # share of its fixes that the grid manager finds not done
    weekend_off: bool = False  # nothing happens on days off


PROFILES = {
    "fire": DepartmentProfile((0.1, 0.8), 0.03, 0.02, 0.5, 0.04, 0.03),  # the model department
    "work_safety": DepartmentProfile((0.2, 1.5), 0.06, 0.04, 0.5, 0.08, 0.05),
    "city_management": DepartmentProfile((0.5, 4), 0.15, 0.05, 0.6, 0.10, 0.12),  # the busiest
    "housing": DepartmentProfile((3, 16), 0.45, 0.05, 0.5, 0.35, 0.15, weekend_off=True),  # the slow one
    "public_security": DepartmentProfile((0.5, 3), 0.10, 0.40, 0.2, 0.05, 0.05),  # returns a lot, overruled
    "food_drug": DepartmentProfile((1, 6), 0.12, 0.05, 0.5, 0.10, 0.40),  # fixes that do not hold
    "market": DepartmentProfile((1, 8), 0.20, 0.25, 0.75, 0.10, 0.10),  # returns, mostly rightly
    "education": DepartmentProfile((2, 12), 0.25, 0.10, 0.5, 0.15, 0.10, weekend_off=True),
    "civil_affairs": DepartmentProfile((1, 6), 0.12, 0.08, 0.5, 0.10, 0.08),
    "health": DepartmentProfile((0.5, 3), 0.05, 0.05, 0.5, 0.05, 0.05),
}
# Where a department says a case belongs when it returns one.
ALTERNATIVES = {
    "public_security": "city_management",
    "city_management": "housing",
    "housing": "city_management",
    "market": "city_management",
    "food_drug": "market",
    "education": "civil_affairs",
    "civil_affairs": "health",
    "health": "civil_affairs",
    "fire": "work_safety",
    "work_safety": "fire",
}


@dataclass(frozen=True)
class DispatcherProfile:
    minutes: tuple[float, float]  # report → decision
    late: float  # share decided after the dispatch deadline
    hours: tuple[int, int] | None = None  # on duty (local hours); None: around the clock


DISPATCHERS = {
    "village_dispatcher": DispatcherProfile((5, 45), 0.04, (8, 21)),
    "liaobu_village_dispatcher": DispatcherProfile((10, 90), 0.10, (8, 21)),
    "town_dispatcher": DispatcherProfile((15, 120), 0.12),
    "liaobu_dispatcher": DispatcherProfile((30, 180), 0.30),
    "city_dispatcher": DispatcherProfile((10, 60), 0.06),
}
NEW_DISPATCHERS = [("liaobu_village_dispatcher", "寮步社区调度员", "441900111", 0)]  # town, village index


@dataclass(frozen=True)
class Problem:
    matter_item: str  # "" : none fits, the dispatcher routes it by hand
    department: str  # whose it really is
    weight: float
    texts: tuple[str, ...]
    minor: bool = False  # a grid manager may put it right on the spot
    joint: str = ""  # a second department that sometimes works on it too


PROBLEMS = [
    Problem(
        "exposed_garbage",
        "city_management",
        14,
        (
            "路边生活垃圾堆放多日未清运",
            "垃圾桶满溢，周边散落垃圾",
            "绿化带内倾倒建筑垃圾",
            "农贸市场门口垃圾成堆，气味很大",
        ),
        minor=True,
    ),
    Problem(
        "street_vendor",
        "city_management",
        8,
        ("流动摊贩占道经营，堵塞人行道", "夜市摊档占用消防通道", "学校门口游商聚集"),
        minor=True,
    ),
    Problem("illegal_building", "city_management", 5, ("楼顶私自加建铁皮房", "沿街商铺违规搭建雨棚"), joint="housing"),
    Problem("manhole", "city_management", 6, ("人行道井盖缺失，行人易跌落", "路面井盖破损松动，车辆经过异响")),
    Problem(
        "fire_exit", "fire", 6, ("楼道堆放杂物堵塞疏散通道", "消防通道被车辆长期占用", "安全出口被铁门上锁"), minor=True
    ),
    Problem("rental_safety", "fire", 6, ("出租屋电动车室内充电", "出租屋私拉乱接电线", "出租屋未配置灭火器")),
    Problem("road_collapse", "housing", 3, ("路面塌陷出现深坑", "人行道下沉开裂"), joint="city_management"),
    Problem(
        "construction_dust",
        "housing",
        6,
        ("工地未覆盖裸土，扬尘严重", "渣土车未密闭运输，沿路撒漏"),
        joint="city_management",
    ),
    Problem("gas_pipe", "work_safety", 2, ("闻到明显燃气味，疑似管道泄漏", "施工挖断燃气管道"), joint="fire"),
    Problem(
        "business_noise",
        "public_security",
        7,
        ("商铺高音喇叭招揽顾客，噪音扰民", "KTV深夜噪音扰民", "广场舞音响音量过大"),
        minor=True,
    ),
    Problem("food_safety", "food_drug", 5, ("小餐馆后厨卫生脏乱", "售卖过期食品", "无证熟食摊"), joint="market"),
    Problem("", "market", 4, ("商铺短斤少两，价格欺诈", "无照经营的小作坊", "商铺虚假宣传打折")),
    Problem("", "work_safety", 3, ("小作坊违规存放易燃易爆物品", "厂房改作仓库，隐患突出", "高空作业未系安全带")),
    Problem("", "education", 3, ("校外培训机构无证办学", "学校周边有网吧接纳未成年人", "校车超载")),
    Problem("", "civil_affairs", 3, ("独居老人无人照料，生活困难", "流浪人员在桥底露宿", "困难家庭申请救助无人受理")),
    Problem("", "health", 3, ("无证诊所违规行医", "出租屋内疑似黑诊所", "药店无执业药师售卖处方药")),
]
LANDLORD_ITEMS = {"rental_safety", "fire_exit"}  # and the minor problems around their houses
ROADS = ["莞太路", "厚街大道", "康乐南路", "双岗路", "竹溪路", "河田大道", "新围路", "环岗路", "富民路", "石步路"]

NOTES = {
    "dispatch": ["请尽快处置", "请按时限处置并反馈", "请核实后处理", ""],
    "reject": ["非本平台受理范围", "现场核查无此问题", "描述不清，无法定位，已电话告知上报人", "已由相关单位处理完毕"],
    "withdrawn": ["上报人来电撤回，问题已自行解决"],
    "return": ["经核实不属于本部门职责", "该事项属其他部门管辖，请改派", "非本单位执法范围"],
    "return_upheld": ["同意退回，改派相关部门", "退回理由成立"],
    "return_overruled": ["经核实属贵单位职责，请予处置", "退回理由不成立，请继续办理"],
    "not_responsible": ["经各部门核实不属政府管理事项，已告知上报人"],
    "extension": ["需协调产权单位，申请延期", "材料采购中，需延长时限", "天气原因无法施工，申请延期"],
    "extension_yes": ["同意延期", "同意，请在新时限内完成"],
    "extension_no": ["不同意延期，请按原时限完成", "理由不充分，请加快处置"],
    "feedback": ["已处理完毕", "已责令整改，现场已恢复", "已清理完毕并加强巡查", "已约谈当事人，问题已整改"],
    "rework_feedback": ["已按复核意见重新处理", "已返工整改到位"],
    "verify_pass": ["现场核查已处理到位", "复核通过", ""],
    "verify_fail": ["现场复核问题依旧存在", "整改不到位，仍有残留", "只处理了一部分，请继续处置"],
    "cannot_fix": ["需纳入年度改造计划，暂无法处置", "涉及历史遗留问题，短期内无法解决"],
    "on_site": ["现场劝导，已当场整改", "已现场处理完毕", "已联系当事人当场清理"],
    "reopen": ["市民反映问题复发，重新办理", "回访发现问题未解决，重新派遣"],
    "satisfied": ["处理很及时，谢谢", "满意", "问题解决了", ""],
    "unsatisfied": ["处理太慢了", "问题没有彻底解决", "拖了很久才处理", ""],
}


@dataclass
class Grid:
    area: Area
    village: Area
    shape: object  # shapely geometry
    prepared: object  # the same, prepared for contains()
    manager: User | None = None
    diligence: float = 0.7


@dataclass
class Story:
    """What one case is meant to go through (decided when it is reported)."""

    n: int
    channel: str
    grid: Grid
    problem: Problem
    fate: str = "normal"  # normal, on_site, reject, withdrawn, merge
    first: list[str] = field(default_factory=list)  # departments of the first dispatch (may be wrong)
    right: list[str] = field(default_factory=list)  # the departments it belongs to
    reworks: int = 0
    returns: int = 0
    reopened: bool = False
    lat: float | None = None
    lng: float | None = None


@dataclass
class Summary:
    start: datetime  # the history's first moment
    end: datetime  # and its last
    cases: int = 0  # reported by the history
    seconds: float = 0.0  # to build it
    counts: dict = field(default_factory=dict)  # figures()
    stopped: list = field(default_factory=list)  # stories an action stopped (not strict)


# ---------------------------------------------------------------------------------------------
# Entry point


def history_exists() -> bool:
    return Case.objects.filter(idempotency_key__contains=HISTORY_KEY).exists()


def seed_history(scale: str = "small", log=print, options: Options | None = None, *, end=None) -> Summary | None:
    """Build the history (None when it is there already). end: when it stops (default: now)."""
    if options is None and scale not in HISTORY_SCALES:
        return None
    if history_exists():
        log("history: already there")
        return None
    started = wallclock.monotonic()
    options = options or Options()
    end = (end or timezone.now()).replace(second=0, microsecond=0) - timedelta(minutes=1)
    sim = Simulation(options, end, log)
    sim.run()
    seconds = round(wallclock.monotonic() - started, 1)
    summary = Summary(sim.start, sim.end, sim.reported, seconds, figures(sim.start, sim.end), sim.stopped)
    log(
        f"history: {summary.cases} cases over {options.days} days in {summary.seconds} s ("
        + ", ".join(f"{k} {v}" for k, v in summary.counts.items())
        + ")"
    )
    if summary.stopped:
        log(f"history: {len(summary.stopped)} case stories stopped early, e.g. {summary.stopped[0]}")
    return summary


def figures(since: datetime, until: datetime) -> dict:
    """What the history holds, by kind (the test checks every kind is there)."""
    from wangge.patrol.models import Inspection, InspectionTask, TaskStatus, TrackDay

    cases = Case.objects.filter(created_at__gte=since, created_at__lte=until)
    events = Counter(CaseEvent.objects.filter(case__in=cases).values_list("action", flat=True))
    assignments = Assignment.objects.filter(case__in=cases)
    # Not told by the history: other systems' channels (the API, Open311 apps, a hotline platform's work orders)
    # and 未诉先办 work (made from recurring spots by dispatchers or rules, not by reporters).
    untold = (Channel.API, Channel.OPEN311, Channel.WORKORDER, Channel.PROACTIVE)
    counts = {f"channel_{c}": cases.filter(channel=c).count() for c in Channel.values if c not in untold}
    counts |= {
        "closed_fixed": cases.filter(status=Status.CLOSED, outcome=Outcome.FIXED).count(),
        "handled_on_site": cases.filter(handled_on_site=True).count(),
        "closed_without_fix": cases.filter(
            status=Status.CLOSED, outcome__in=[Outcome.NOT_RESPONSIBLE, Outcome.CANNOT_FIX, Outcome.WITHDRAWN]
        ).count(),
        "rejected": cases.filter(status=Status.REJECTED).count(),
        "merged": cases.filter(status=Status.MERGED).count(),
        "open": cases.filter(
            status__in=[Status.REPORTED, Status.REGISTERED, Status.HANDLING, Status.VERIFYING]
        ).count(),
        "overdue": assignments.filter(overdue_at__isnull=False).count(),
        "on_time": assignments.filter(status=AssignmentStatus.DONE, overdue_at__isnull=True).count(),
        "dispatch_late": cases.filter(dispatch_overdue_at__isnull=False).count(),
        "dispatch_on_time": cases.filter(dispatched_at__isnull=False, dispatch_overdue_at__isnull=True).count(),
        "returns": events["return"],
        "return_decisions": events["decide_return"],
        "extensions_granted": assignments.filter(extension_status=ExtensionStatus.APPROVED).count(),
        "extensions_refused": assignments.filter(extension_status=ExtensionStatus.REFUSED).count(),
        "verify_failed": events["verify_fail"],
        "escalated": events["escalate"],
        "reopened": events["reopen"],
        "satisfaction": cases.filter(satisfaction__isnull=False).count(),
        "low_satisfaction": cases.filter(satisfaction__lte=2).count(),
        "dispatcher_ratings": cases.filter(dispatcher_rating__isnull=False).count(),
        "inspections": Inspection.objects.filter(finished_at__gte=since, finished_at__lte=until).count(),
        "tasks_done": InspectionTask.objects.filter(
            status=TaskStatus.DONE, created_at__gte=since, created_at__lte=until
        ).count(),
        "tasks_missed": InspectionTask.objects.filter(
            status=TaskStatus.OPEN, due_date__lt=timezone.localdate(until), created_at__gte=since, created_at__lte=until
        ).count(),
        "track_days": TrackDay.objects.filter(first_at__gte=since, first_at__lte=until).count(),
    }
    return counts


# ---------------------------------------------------------------------------------------------
# The simulation


def _minutes(m: float) -> timedelta:
    return timedelta(minutes=m)


def _hours(h: float) -> timedelta:
    return timedelta(hours=h)


def _ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


class Simulation:
    def __init__(self, options: Options, end: datetime, log):
        self.options, self.end, self.log = options, end, log
        self.rng = random.Random(options.seed)
        first_day = timezone.localdate(end) - timedelta(days=options.days)
        self.start = timezone.make_aware(datetime.combine(first_day, time()))
        self.queue: list = []
        self.order = itertools.count()
        self.traveller = None
        self.now = self.start
        self.reported = 0
        self.numbers = itertools.count(1)
        self.next_due: datetime | None = None
        self.due_known = False
        self.photos: list[bytes] = []
        self.outbox: list[int] = []  # SMS and webhook rows waiting to be sent
        self.stopped: list[str] = []  # why stories ended early (not strict)

    # -- the clock --------------------------------------------------------------------------

    def run(self) -> None:
        self.now = self.start - timedelta(days=3)  # the history's users are added then
        with time_machine.travel(self.now, tick=False) as traveller:
            self.traveller = traveller
            self.people()
            self.plan()
            before = self._last_notification_id()
            callbacks = len(connection.run_on_commit)
            post_save.connect(self._queued, sender=Notification, dispatch_uid="demo-history-outbox")
            try:
                while self.queue and self.queue[0][0] <= self.end:
                    at, _order, story = heapq.heappop(self.queue)
                    self.worker_until(at)
                    self.move(at)
                    try:
                        wanted = next(story)
                    except StopIteration:
                        wanted = None
                    except DatabaseError:
                        raise  # the transaction may be unusable: nothing sensible to go on with
                    except Exception as exc:
                        if self.options.strict:
                            raise
                        self.stopped.append(f"{type(exc).__name__}: {exc}")
                        wanted = None
                    self.due_known = False
                    self.deliver()
                    if wanted is not None:
                        self.spawn(wanted if isinstance(wanted, datetime) else at + wanted, story)
                self.worker_until(self.end)
                self.move(self.end)
            finally:
                post_save.disconnect(sender=Notification, dispatch_uid="demo-history-outbox")
            _forget_past_callbacks(callbacks)
            # Users read their bells back then: only the last day's notifications are still new.
            notify.mark_read_before(self.end - timedelta(days=1), since_id=before, delay=_minutes(20))
        from wangge.insight import facts

        facts.refresh_dirty()

    def _queued(self, sender, instance, created=False, **kwargs):
        if created and instance.channel != NotificationChannel.INAPP:
            self.outbox.append(instance.pk)

    def deliver(self) -> None:
        """What the worker does after each commit: send the SMS (and webhooks) just queued."""
        if self.outbox:
            ids, self.outbox = self.outbox, []
            notify.deliver_due(ids=ids)

    def move(self, moment: datetime) -> None:
        if moment > self.now:
            self.now = moment
            self.traveller.move_to(moment)

    def spawn(self, at: datetime, story: Iterator) -> None:
        heapq.heappush(self.queue, (max(at, self.now), next(self.order), story))

    def worker_until(self, moment: datetime) -> None:
        """Run the deadline checker at each minute tick up to `moment` where something fell due."""
        while True:
            if not self.due_known:
                self.next_due, self.due_known = self._next_due(), True
            if self.next_due is None:
                return
            tick = _ceil_minute(max(self.next_due, self.now))
            if tick > moment:
                return
            self.move(tick)
            check_deadlines()
            self.due_known = False
            self.deliver()

    @staticmethod
    def _next_due() -> datetime | None:
        """The first moment the deadline checker has something to do (the rows it claims). Asked
        before every step: one plain query."""
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_DUE_SQL, [*ACTIVE_ASSIGNMENT, *ACTIVE_ASSIGNMENT, Status.REPORTED, Status.REGISTERED])
            (value,) = cursor.fetchone()
        if isinstance(value, str):  # SQLite: text in UTC
            value = parse_datetime(value)
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        return value

    @staticmethod
    def _last_notification_id() -> int:
        return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    # -- the people ---------------------------------------------------------------------------

    def people(self) -> None:
        """The users the history needs (added once, a few days before it starts): a handler per
        department, a grid manager per grid of the history's villages, one more village dispatcher."""
        from wangge.demo import DEMO_PASSWORD

        rng = random.Random(self.options.seed + 1)
        phones = itertools.count(USER_PHONES + 1)
        password = make_password(DEMO_PASSWORD)  # once: a hash costs a tenth of a second

        def user(username, full_name, role, area=None, department=None):
            found = User.objects.filter(username=username).first()
            phone = next(phones)
            if found is None:
                found = account_actions.create_user(username, None, full_name=full_name)
                found.password = password
                found.set_phone(str(phone))
                found.save(update_fields=["password", "phone_encrypted"])
            account_actions.add_membership(found, role, area=area, department=department)
            return found

        self.handlers = {}
        for department in Department.objects.filter(is_active=True, level="city").order_by("code"):
            username = f"{department.code}_handler"
            self.handlers[department.code] = user(
                username, f"{department.name}处置人员", Role.DEPARTMENT_HANDLER, department=department
            )
        self.grids: list[Grid] = []
        self.villages: list[tuple[Area, float]] = []
        for town, count in self.options.villages:
            villages = [
                v
                for v in Area.objects.filter(parent__code=town, level=Level.VILLAGE).order_by("code")
                if v.children.filter(level=Level.GRID, boundary__isnull=False).exists()
            ][:count]
            for village in villages:
                self.villages.append((village, rng.uniform(0.6, 1.4)))
                for grid in village.children.filter(level=Level.GRID, boundary__isnull=False).order_by("code"):
                    geometry = shape(grid.boundary)
                    self.grids.append(Grid(grid, village, geometry, shapely.prepared.prep(geometry)))
        for username, full_name, town, index in NEW_DISPATCHERS:
            village = Area.objects.filter(parent__code=town, level=Level.VILLAGE).order_by("code")[index]
            if any(v.pk == village.pk for v, _w in self.villages):
                user(username, full_name, Role.VILLAGE_DISPATCHER, area=village)
        # Diligence spread evenly over the grid managers, in a shuffled order; the demo's own grid
        # manager is a good one, the neighbour's middling.
        spread = [0.3 + 0.68 * i / max(1, len(self.grids) - 1) for i in range(len(self.grids))]
        rng.shuffle(spread)
        existing = {"grid_manager": 0.9, "grid_manager2": 0.55}
        for grid, diligence in zip(self.grids, spread, strict=True):
            managers = list(
                User.objects.filter(memberships__role=Role.GRID_MANAGER, memberships__area=grid.area).order_by("pk")
            )
            if managers:
                grid.manager = managers[0]
                grid.diligence = existing.get(grid.manager.username, diligence)
            else:
                grid.manager = user(f"gm_{grid.area.code}", person_name(rng), Role.GRID_MANAGER, area=grid.area)
                grid.diligence = diligence
        # Users as the actions will see them: memberships loaded once.
        ids = {u.pk for u in self.handlers.values()} | {g.manager.pk for g in self.grids}
        loaded = {u.pk: u for u in User.objects.filter(pk__in=ids).prefetch_related("memberships")}
        self.handlers = {code: loaded[u.pk] for code, u in self.handlers.items()}
        for grid in self.grids:
            grid.manager = loaded[grid.manager.pk]
        self.dispatchers = []  # (user, level, path)
        dispatcher_roles = list(DISPATCHER_LEVELS)
        for u in User.objects.filter(memberships__role__in=dispatcher_roles, is_active=True).distinct().order_by("pk"):
            u = User.objects.prefetch_related("memberships__area").get(pk=u.pk)
            for m in u.memberships.all():
                if m.role in DISPATCHER_LEVELS and m.area_id:
                    self.dispatchers.append((u, DISPATCHER_LEVELS[m.role], m.area.path))
        # Only hotline operators file hotline cases (cases.channels): the city's 12345 desk.
        call_takers = User.objects.filter(memberships__role=Role.CALL_TAKER, is_active=True).order_by("pk")
        self.call_taker = call_takers.first()
        self.citizen = User.objects.filter(username="citizen").first()
        self.landlord = User.objects.filter(username="landlord").first()

    def dispatcher_for(self, case: Case) -> User:
        """Who commands the case now: the lowest level at or above its command level over its area."""
        level = COMMAND_LEVELS.index(case.command_level)
        fitting = [
            (COMMAND_LEVELS.index(lvl), u.pk, u)
            for u, lvl, path in self.dispatchers
            if case.area_path.startswith(path) and COMMAND_LEVELS.index(lvl) >= level
        ]
        return min(fitting, key=lambda f: (f[0], f[1]))[2]

    def hotline_operator(self, grid: Grid) -> User:
        if self.call_taker is not None:
            return self.call_taker
        town = [(u.pk, u) for u, lvl, path in self.dispatchers if lvl == Level.TOWN and grid.area.path.startswith(path)]
        return min(town)[1] if town else self.dispatcher_for(Case(command_level=Level.CITY, area_path=grid.area.path))

    # -- the plan ------------------------------------------------------------------------------

    def plan(self) -> None:
        rng = self.rng
        weights = [w for _v, w in self.villages]
        for day_index in range(self.options.days + 1):
            day = timezone.localdate(self.start) + timedelta(days=day_index)
            factor = 1.0 if is_working_day(day) else 0.65
            for _ in range(_poisson(rng, self.options.cases_per_day * factor)):
                at = self._report_time(day)
                village = rng.choices([v for v, _w in self.villages], weights)[0]
                grid = rng.choice([g for g in self.grids if g.village.pk == village.pk])
                if at < self.end:
                    self.spawn(at, self.case_story(self._story(grid)))
            if self.options.patrol:
                self.spawn(timezone.make_aware(datetime.combine(day, time(0, 30))), self.plan_inspections())
                if day < timezone.localdate(self.end):
                    for grid in self.grids:
                        self.spawn(timezone.make_aware(datetime.combine(day, time(7))), self.patrol_day(grid, day))
        self._plan_sensor_alarms()

    def _report_time(self, day: date) -> datetime:
        rng = self.rng
        if rng.random() < 0.04:  # the odd call at night
            hour = rng.choice([0, 1, 2, 5, 6, 22, 23])
        else:
            hour = rng.choices(range(7, 22), [2, 6, 8, 8, 7, 5, 6, 7, 7, 6, 5, 4, 4, 3, 2])[0]
        return timezone.make_aware(datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60))))

    def _story(self, grid: Grid, problem: Problem | None = None, channel: str = "") -> Story:
        rng = self.rng
        problem = problem or rng.choices(PROBLEMS, [p.weight for p in PROBLEMS])[0]
        if not channel:
            channel = rng.choices(
                [Channel.GRID_MANAGER, Channel.HOTLINE, Channel.CITIZEN_WEB, Channel.LANDLORD], [44, 26, 22, 8]
            )[0]
            landlords = problem.matter_item in LANDLORD_ITEMS or problem.minor
            if channel == Channel.LANDLORD and (not landlords or self.landlord is None):
                channel = Channel.HOTLINE
            # A grid manager who seldom looks finds less: citizens call in what they missed.
            if channel == Channel.GRID_MANAGER and rng.random() > 0.4 + 0.6 * grid.diligence:
                channel = rng.choice([Channel.HOTLINE, Channel.CITIZEN_WEB])
        story = Story(next(self.numbers), channel, grid, problem, right=[problem.department])
        roll = rng.random()
        if channel == Channel.GRID_MANAGER and problem.minor and roll < 0.1 + 0.35 * grid.diligence:
            story.fate = "on_site"
        elif roll < (0.07 if channel in (Channel.HOTLINE, Channel.CITIZEN_WEB) else 0.02):
            story.fate = "reject"
        elif channel in (Channel.HOTLINE, Channel.CITIZEN_WEB) and roll > 0.98:
            story.fate = "withdrawn"
        if problem.joint and rng.random() < 0.25:
            story.right.append(problem.joint)
        story.first = list(story.right)
        if not problem.matter_item and rng.random() < 0.35:
            story.first = ["city_management"]  # routed by hand, to the wrong door
        return story

    def _plan_sensor_alarms(self) -> None:
        from wangge.sensors.models import Reading, Sensor

        alarming = set(Reading.objects.filter(case__isnull=False).values_list("sensor_id", flat=True))
        grid_paths = tuple(g.area.path for g in self.grids)
        sensors = [
            s
            for s in Sensor.objects.filter(is_active=True, matter_item__isnull=False).order_by("code")
            if s.pk not in alarming and s.area_path.startswith(grid_paths)
        ]
        if not sensors:
            return
        last = self.end - timedelta(days=8)  # the demo sensors' own week of readings follows
        if last <= self.start:
            return
        for _ in range(max(1, self.options.days // 4)):
            at = self.start + (last - self.start) * self.rng.random()
            self.spawn(at, self.sensor_alarm(self.rng.choice(sensors)))

    # -- helpers for the stories --------------------------------------------------------------

    def grid_of(self, case: Case) -> Grid | None:
        return next((g for g in self.grids if case.area_path.startswith(g.area.path)), None)

    def case(self, case_id: int) -> Case:
        return Case.objects.get(pk=case_id)

    def act(self, case: Case | int, user, action: str, **params) -> Case:
        """One transition, by this user, on the case as they see it now (a Case read in this step)."""
        if not isinstance(case, Case):
            case = self.case(case)
        return transition(case, user, action, version=case.version, **params)

    def note(self, kind: str) -> str:
        return self.rng.choice(NOTES[kind])

    def point_in(self, grid: Grid) -> tuple[float, float]:
        minx, miny, maxx, maxy = grid.shape.bounds
        for _ in range(100):
            lng, lat = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if grid.prepared.contains(shapely.Point(lng, lat)):
                return round(lat, 6), round(lng, 6)
        p = grid.shape.representative_point()
        return round(p.y, 6), round(p.x, 6)

    def photo(self, user):
        """A small photo uploaded by the user (what the phone sends as proof)."""
        if not self.photos:
            for colour in [(120, 130, 110), (90, 100, 120), (140, 120, 100), (110, 110, 110)]:
                buffer = io.BytesIO()
                Image.new("RGB", (160, 120), colour).save(buffer, "JPEG", quality=70)
                self.photos.append(buffer.getvalue())
        data = self.rng.choice(self.photos)
        return store_photo(SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg"), user=user)

    def on_duty(self, moment: datetime, hours: tuple[int, int] | None, weekend_off: bool = False) -> datetime:
        """The moment, or the next morning when it falls outside working hours."""
        if hours is None:
            return moment
        local = timezone.localtime(moment)
        start, stop = hours
        day = local.date()
        if local.hour >= stop:
            day += timedelta(days=1)
        elif local.hour >= start and not (weekend_off and not is_working_day(day)):
            return moment
        while weekend_off and not is_working_day(day):
            day += timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time(start))) + _minutes(self.rng.uniform(10, 90))

    def dispatcher_time(self, case: Case, *, after: datetime | None = None, minutes=None) -> datetime:
        dispatcher = self.dispatcher_for(case)
        profile = DISPATCHERS.get(dispatcher.username, DispatcherProfile((15, 120), 0.1))
        lo, hi = minutes or profile.minutes
        at = (after or self.now) + _minutes(self.rng.uniform(lo, hi))
        if after is None and case.dispatch_deadline:
            if self.rng.random() < profile.late:
                at = max(at, case.dispatch_deadline + _minutes(self.rng.uniform(5, 300)))
            elif case.dispatch_deadline > self.now:
                at = min(at, self.now + (case.dispatch_deadline - self.now) * self.rng.uniform(0.2, 0.9))
        return self.on_duty(at, profile.hours)

    # -- the stories --------------------------------------------------------------------------

    def case_story(self, story: Story):
        case = self.report(story)
        if case is not None:
            yield from self.triage(case.pk, story)

    def report(self, story: Story) -> Case | None:
        rng, grid, problem = self.rng, story.grid, story.problem
        if story.fate == "merge" and story.lat is not None:
            lat, lng = story.lat, story.lng
        else:
            lat, lng = self.point_in(grid)
        story.lat, story.lng = lat, lng
        text = rng.choice(problem.texts)
        road = rng.choice(ROADS)
        report = Report(
            description=f"{text}（{grid.village.name}{road}附近）",
            channel=story.channel,
            lat=lat,
            lng=lng,
            address=f"{grid.village.name}{road}{rng.randrange(1, 300)}号",
            idempotency_key=f"{HISTORY_KEY}:{story.n}",
        )
        staff = story.channel in (Channel.GRID_MANAGER, Channel.HOTLINE)
        if problem.matter_item and (staff or story.channel == Channel.LANDLORD or rng.random() < 0.5):
            report.matter_item = problem.matter_item
        user = None
        if story.channel == Channel.GRID_MANAGER:
            user = grid.manager
        elif story.channel == Channel.HOTLINE:
            user = self.hotline_operator(grid)
            report.reporter_name, report.reporter_phone = person_name(rng), random_phone(rng)
        elif story.channel == Channel.LANDLORD:
            user = self.landlord
        elif story.channel == Channel.CITIZEN_WEB:
            report.reporter_phone = random_phone(rng)
            if self.citizen is not None and rng.random() < 0.4:
                user = self.citizen
            else:
                report.reporter_name = person_name(rng)
        case, created = report_case(report, user)
        if created:
            self.reported += 1
            story.grid = self.grid_of(case) or grid
            if story.fate == "normal" and rng.random() < 0.06:
                # Someone else reports the same thing a few hours later, a few metres away.
                twin = Story(next(self.numbers), rng.choice([Channel.HOTLINE, Channel.CITIZEN_WEB]), grid, problem)
                twin.fate, twin.right, twin.first = "merge", list(story.right), list(story.first)
                twin.lat, twin.lng = round(lat + rng.uniform(-2e-4, 2e-4), 6), round(lng + rng.uniform(-2e-4, 2e-4), 6)
                if not grid.prepared.contains(shapely.Point(twin.lng, twin.lat)):
                    twin.lat, twin.lng = lat, lng
                at = self.now + _hours(rng.uniform(0.5, 20))
                if at < self.end:
                    self.spawn(at, self.case_story(twin))
        return case if created else None

    def triage(self, case_id: int, story: Story):
        rng = self.rng
        case = self.case(case_id)
        if story.fate == "on_site":
            yield _minutes(rng.uniform(10, 60))
            manager = story.grid.manager
            photo = self.photo(manager)
            self.act(case_id, manager, "handle_on_site", note=self.note("on_site"), photo_ids=[photo.pk])
            yield from self.after_close(case_id, story)
            return
        yield self.dispatcher_time(case)
        case = self.case(case_id)
        if case.status not in (Status.REPORTED, Status.REGISTERED):
            return
        dispatcher = self.dispatcher_for(case)
        if story.fate == "merge" and case.duplicate_of_id:
            target = self.case(case.duplicate_of_id)
            if target.is_open:
                self.act(case, dispatcher, "merge", into=target.pk, note="重复上报，合并办理")
                return
        if story.fate == "reject":
            self.act(case, dispatcher, "reject", note=self.note("reject"))
            return
        if story.fate == "withdrawn":
            self.act(case, dispatcher, "close", outcome=Outcome.WITHDRAWN, note=self.note("withdrawn"))
            return
        if case.status == Status.REPORTED:
            params = {}
            if story.problem.matter_item and not case.matter_item_id:
                params["matter_item"] = story.problem.matter_item
            if story.problem.matter_item in ("gas_pipe", "road_collapse") and case.severity != Severity.URGENT:
                params["severity"] = Severity.URGENT
            self.act(case, dispatcher, "register", **params)
            yield _minutes(rng.uniform(1, 15))
        self.dispatch(case_id, story, story.first)

    def dispatch(self, case_id: int, story: Story, departments: list[str], note: str = "", may_return=True) -> None:
        case = self.case(case_id)
        busy = set(case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).values_list("department__code", flat=True))
        codes = [c for c in departments if c not in busy and c in self.handlers]
        if not codes or case.status not in (Status.REPORTED, Status.REGISTERED, Status.HANDLING):
            return
        dispatcher = self.dispatcher_for(case)
        self.act(case, dispatcher, "dispatch", departments=codes, note=note or self.note("dispatch"))
        for code in codes:
            joint = len(story.right) > 1
            self.spawn(self.now, self.assignment_story(case_id, code, story, may_return=may_return and not joint))

    def assignment(self, case_id: int, code: str) -> Assignment | None:
        return Assignment.objects.filter(case_id=case_id, department__code=code).order_by("-pk").first()

    def assignment_story(self, case_id: int, code: str, story: Story, *, may_return=True, rework=False):
        """One department's share: accept (or return), maybe ask for more time, report back."""
        rng, profile, handler = self.rng, PROFILES.get(code, PROFILES["civil_affairs"]), self.handlers[code]
        hours = None if code in ("fire", "work_safety") else (8, 20)
        yield self.on_duty(self.now + _hours(rng.uniform(*profile.accept_hours)), hours, profile.weekend_off)
        a, case = self.assignment(case_id, code), self.case(case_id)
        if a is None or a.status not in ACTIVE_ASSIGNMENT or case.status != Status.HANDLING:
            return
        if a.status == AssignmentStatus.PENDING:
            wrong = code not in story.right
            if may_return and (wrong or rng.random() < profile.returns):
                self.act(case, handler, "return", note=self.note("return"))
                story.returns += 1
                yield from self.decide_return(case_id, code, story, a.pk, rightly=wrong)
                return
            self.act(case, handler, "accept")
            a = self.assignment(case_id, code)
        late = rng.random() < profile.late
        if rework:
            finish = self.now + _hours(rng.uniform(3, 30))
        else:
            span = a.deadline - self.now
            if rng.random() < profile.extension and span > _hours(2):
                yield self.now + span * rng.uniform(0.4, 0.8)
                a, case = self.assignment(case_id, code), self.case(case_id)
                if a.status != AssignmentStatus.ACCEPTED or case.status != Status.HANDLING:
                    return
                case = self.act(
                    case, handler, "request_extension", hours=rng.choice([24, 48, 72]), note=self.note("extension")
                )
                yield self.dispatcher_time(case, minutes=(20, 300))
                a, case = self.assignment(case_id, code), self.case(case_id)
                if a.extension_status == ExtensionStatus.REQUESTED and case.status == Status.HANDLING:
                    granted = rng.random() < 0.65
                    self.act(
                        case,
                        self.dispatcher_for(case),
                        "decide_extension",
                        approve=granted,
                        assignment=a.pk,
                        note=self.note("extension_yes" if granted else "extension_no"),
                    )
                    late = rng.random() < (profile.late / 2 if granted else 0.6)
                    a = self.assignment(case_id, code)
            span = a.deadline - self.now
            if late or span <= timedelta(0):
                finish = max(self.now, a.deadline) + _hours(rng.uniform(0.5, 48))
            else:
                finish = self.now + span * rng.uniform(0.15, 0.9)
        yield self.on_duty(finish, hours, profile.weekend_off)
        a, case = self.assignment(case_id, code), self.case(case_id)
        if a is None or a.status != AssignmentStatus.ACCEPTED or case.status != Status.HANDLING:
            return
        case = self.act(case, handler, "feedback", note=self.note("rework_feedback" if rework else "feedback"))
        if case.status == Status.VERIFYING:
            self.spawn(self.now, self.verify_story(case_id, story))

    def decide_return(self, case_id: int, code: str, story: Story, assignment_id: int, *, rightly: bool):
        rng = self.rng
        yield self.dispatcher_time(self.case(case_id), minutes=(20, 360))
        case = self.case(case_id)
        if case.status not in (Status.REGISTERED, Status.HANDLING):
            return
        profile = PROFILES.get(code, PROFILES["civil_affairs"])
        upheld = rightly and rng.random() < 0.95 or not rightly and rng.random() < profile.return_upheld
        decision = TRANSITIONS.get("decide_return")  # the dispatcher's word on a return, once it exists
        if decision is not None and case.status in decision.from_statuses:
            note = self.note("return_upheld" if upheld else "return_overruled")
            dispatcher = self.dispatcher_for(case)
            case = self.act(case, dispatcher, "decide_return", assignment=assignment_id, approve=upheld, note=note)
        if upheld:
            if rightly:
                target = [c for c in story.right if c != code]
            else:
                alternative = ALTERNATIVES.get(code)
                target = [alternative] if alternative and rng.random() < 0.7 else []
                story.right = target or story.right
            if target:
                yield _minutes(rng.uniform(2, 20))
                self.dispatch(case_id, story, target, note="改派")
            elif not case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).exists() and case.is_open:
                yield _minutes(rng.uniform(5, 60))
                case = self.case(case_id)
                if case.is_open:
                    self.act(
                        case,
                        self.dispatcher_for(case),
                        "close",
                        outcome=Outcome.NOT_RESPONSIBLE,
                        note=self.note("not_responsible"),
                    )
            return
        a = Assignment.objects.get(pk=assignment_id)
        if a.status in ACTIVE_ASSIGNMENT:  # the decision sent the work back to the department
            self.spawn(
                self.now,
                self.assignment_story(
                    case_id, code, story, may_return=False, rework=a.status == AssignmentStatus.ACCEPTED
                ),
            )
        else:
            self.dispatch(case_id, story, [code], note=self.note("return_overruled"), may_return=False)

    def verify_story(self, case_id: int, story: Story):
        rng = self.rng
        grid = self.grid_of(self.case(case_id)) or story.grid
        manager = grid.manager
        delay = rng.uniform(0.5, 4) if rng.random() < grid.diligence else rng.uniform(6, 60)
        yield self.on_duty(self.now + _hours(delay), (8, 19))
        case = self.case(case_id)
        if case.status != Status.VERIFYING:
            return
        done = list(case.assignments.filter(status=AssignmentStatus.DONE).values_list("department__code", flat=True))
        if rng.random() < 0.03:
            yield self.dispatcher_time(case, minutes=(30, 600))
            case = self.case(case_id)
            if case.status == Status.VERIFYING:
                self.act(
                    case,
                    self.dispatcher_for(case),
                    "close",
                    outcome=Outcome.CANNOT_FIX,
                    note=self.note("cannot_fix"),
                )
                yield from self.after_close(case_id, story)
            return
        rework = max(PROFILES.get(c, PROFILES["civil_affairs"]).rework for c in done) if done else 0
        if story.reworks < 2 and rng.random() < rework:
            story.reworks += 1
            self.act(case, manager, "verify_fail", note=self.note("verify_fail"))
            for code in done:
                self.spawn(self.now, self.assignment_story(case_id, code, story, may_return=False, rework=True))
            return
        self.act(case, manager, "verify_pass", note=self.note("verify_pass"))
        yield from self.after_close(case_id, story)

    def satisfaction(self, case: Case, story: Story) -> int:
        score = 4.6 + self.rng.gauss(0, 0.6)
        score -= 1.2 if case.is_overdue else 0
        score -= 0.9 * story.reworks + 0.4 * story.returns + (1.0 if story.reopened else 0)
        if case.outcome in (Outcome.CANNOT_FIX, Outcome.NOT_RESPONSIBLE):
            score -= 1.5
        if case.closed_at and case.closed_at - case.created_at > timedelta(days=4):
            score -= 0.6
        return max(1, min(5, round(score)))

    def after_close(self, case_id: int, story: Story):
        """The reporter's satisfaction, the dispatcher's rating, and now and then a reopening."""
        rng = self.rng
        case = self.case(case_id)
        closed_at = case.closed_at
        score = self.satisfaction(case, story)
        steps = []
        if case.reporter_id and case.channel in (Channel.CITIZEN_WEB, Channel.LANDLORD) and rng.random() < 0.75:
            steps.append((closed_at + _hours(rng.uniform(1, 48)), "rate"))
        elif case.reporter_phone_encrypted and rng.random() < 0.55:
            steps.append((closed_at + _hours(rng.uniform(1, 48)), "rate_by_number"))
        if rng.random() < 0.3:
            steps.append((closed_at + _hours(rng.uniform(0.5, 24)), "dispatcher_rating"))
        fixed = case.outcome == Outcome.FIXED and not story.reopened
        if fixed and rng.random() < (0.4 if score <= 2 else 0.03):
            steps.append((closed_at + _hours(rng.uniform(24, 150)), "reopen"))
        for at, step in sorted(steps):
            yield at
            case = self.case(case_id)
            if case.status != Status.CLOSED:
                return
            note = self.note("satisfied" if score >= 4 else "unsatisfied")
            if step == "rate":
                self.act(case, case.reporter, "evaluate", satisfaction=score, note=note)
            elif step == "rate_by_number" and case.satisfaction is None:
                evaluate_by_tracking_number(case.tracking_number, score, note)
            elif step == "dispatcher_rating":
                rating = max(1, min(5, score + rng.choice([-1, 0, 0, 1])))
                self.act(case, self.dispatcher_for(case), "evaluate", rating=rating)
            elif step == "reopen" and self.now - case.closed_at < timedelta(days=6, hours=20):
                departments = list(
                    case.assignments.filter(status=AssignmentStatus.DONE)
                    .values_list("department__code", flat=True)
                    .distinct()
                )
                case = self.act(case, self.dispatcher_for(case), "reopen", note=self.note("reopen"))
                story.reopened = True
                yield self.dispatcher_time(case, minutes=(10, 120))
                self.dispatch(case_id, story, departments or story.right, note=self.note("reopen"))
                return

    def sensor_alarm(self, sensor):
        from wangge.sensors.actions import record_reading

        n = next(self.numbers)
        value = round(sensor.threshold * self.rng.uniform(1.2, 1.8), 2)
        received = record_reading(sensor.code, f"{HISTORY_KEY}-{n}", value, self.now)
        if received.new_case:
            self.reported += 1
            grid = self.grid_of(received.case)
            problem = next((p for p in PROBLEMS if p.matter_item == sensor.matter_item.code), None)
            if grid is not None and problem is not None:
                story = Story(n, Channel.SENSOR, grid, problem, right=[problem.department], first=[problem.department])
                yield from self.triage(received.case.pk, story)

    # -- field work ---------------------------------------------------------------------------

    def plan_inspections(self):
        from wangge.patrol.actions import plan_inspections

        plan_inspections(timezone.localdate(self.now), within=[g.area.path for g in self.grids])
        yield from ()

    def patrol_day(self, grid: Grid, day: date):
        """The grid manager's morning walk (a track day) and the inspections due on their way."""
        from wangge.patrol.actions import Position, record_positions
        from wangge.patrol.models import InspectionTask, TaskStatus
        from wangge.patrol.seed import walk

        rng = random.Random(f"{self.options.seed}:{grid.area.code}:{day}")
        works = rng.random() < (0.3 + 0.7 * grid.diligence if is_working_day(day) else 0.1 + 0.2 * grid.diligence)
        if not works:
            return
        start = timezone.make_aware(datetime.combine(day, time(8))) + _minutes(rng.uniform(0, 90))
        end = start + _hours(max(0.5, rng.gauss(1 + 3 * grid.diligence, 0.5)))
        due = InspectionTask.objects.filter(
            status=TaskStatus.OPEN, area_path__startswith=grid.area.path, due_date__lte=day + timedelta(days=2)
        ).order_by("due_date", "pk")
        todo = [t for t in due if self._inspection_day(t, grid) <= day]
        for index, task in enumerate(todo[: 2 + round(4 * grid.diligence)]):
            yield start + (end - start) * (index + 1) / (len(todo) + 2)
            self.inspect(grid, task, rng)
        yield end + _minutes(2)
        positions = walk(grid.shape, start, end, 60, rng)
        if positions:
            record_positions(grid.manager, [Position(p.at, p.lat, p.lng, p.accuracy_m) for p in positions])

    def _inspection_day(self, task, grid: Grid) -> date:
        """When the grid manager means to do the task: before it is due, later, or (never) far away."""
        rng = random.Random(f"{self.options.seed}:{task.target_key}:{task.due_date}")  # not by id: ids vary
        roll = rng.random()
        if roll < grid.diligence:
            return task.due_date - timedelta(days=rng.randrange(0, 3))
        if roll < grid.diligence + (1 - grid.diligence) / 2:
            return task.due_date + timedelta(days=rng.randrange(1, 10))
        return date.max

    def inspect(self, grid: Grid, task, rng: random.Random) -> None:
        from wangge.patrol.actions import Answer, InspectionInput, record_inspection
        from wangge.patrol.models import AnswerType, Checklist, InspectionAnswer

        checklist = Checklist.objects.filter(code=task.checklist_code, is_current=True).first()
        if checklist is None:
            return
        items = list(checklist.items.all())
        can_fail = [i for i in items if not i.is_collection and i.answer_type in (AnswerType.YES_NO, AnswerType.CHOICE)]
        failing = rng.choice(can_fail) if can_fail and rng.random() < 0.15 + 0.1 * (1 - grid.diligence) else None
        answers = []
        for item in items:
            answer = Answer(item.code)
            if item.answer_type == AnswerType.YES_NO:
                answer.value = not (item.failing_choices == [True])
            elif item.answer_type == AnswerType.CHOICE:
                answer.value = next(c for c in item.choices if c not in item.failing_choices)
            elif item.answer_type == AnswerType.NUMBER:
                answer.value = rng.randrange(1, 12)
            elif item.answer_type == AnswerType.TEXT:
                answer.value = "无变化" if item.is_collection else "正常"
            else:
                continue  # photos are optional
            if item is failing:
                answer.value = item.failing_choices[0]
                if item.matter_item_id and rng.random() < 0.7:
                    answer.resolution = "case"
                else:
                    answer.resolution, answer.photo_id = "corrected", self.photo(grid.manager).pk
                answer.note = "现场发现"
            answers.append(answer)
        target = task.target
        lat, lng = self.point_in(grid)
        if getattr(target, "lat", None) is not None:
            lat, lng = target.lat, target.lng
        inspection, _created = record_inspection(
            grid.manager,
            InspectionInput(
                target_kind=task.target_kind,
                target_id=task.target.pk,
                checklist=checklist.code,
                version=checklist.version,
                answers=answers,
                started_at=self.now - _minutes(rng.uniform(8, 25)),
                finished_at=self.now,
                lat=lat,
                lng=lng,
                accuracy_m=round(rng.uniform(4, 20), 1),
                idempotency_key=f"{HISTORY_KEY}:inspection:{task.pk}",
            ),
        )
        for answer in InspectionAnswer.objects.filter(inspection=inspection, case__isnull=False).select_related("case"):
            problem = next(
                (
                    p
                    for p in PROBLEMS
                    if p.matter_item and answer.case.matter_item_id and p.matter_item == answer.case.matter_item.code
                ),
                None,
            )
            if problem is not None:
                self.reported += 1
                story = Story(
                    next(self.numbers),
                    Channel.GRID_MANAGER,
                    grid,
                    problem,
                    right=[problem.department],
                    first=[problem.department],
                )
                self.spawn(self.now, self.triage(answer.case_id, story))


# After-commit work that the past does not need: live events for open pages (nobody watched back
# then, and a page open now must not replay weeks of changes) and handing outbox rows to the worker
# (the simulated worker sent them already). The rest (cache invalidations) stays.
PAST_CALLBACK_MODULES = ("wangge.insight.", "wangge.notify.", "wangge.patrol.")


def _forget_past_callbacks(mark: int) -> None:
    """Drop those callbacks the history queued on the open transaction (Django keeps them in
    connection.run_on_commit as (savepoint ids, function, robust))."""
    if not connection.in_atomic_block:
        return
    kept = connection.run_on_commit[:mark]
    for entry in connection.run_on_commit[mark:]:
        function = getattr(entry[1], "func", entry[1])  # a functools.partial: the function inside
        if not getattr(function, "__module__", "").startswith(PAST_CALLBACK_MODULES):
            kept.append(entry)
    connection.run_on_commit[:] = kept


_NEXT_DUE_SQL = (
    f"SELECT MIN(due) FROM ("
    f" SELECT MIN(remind_at) AS due FROM {Assignment._meta.db_table}"
    f"  WHERE status IN (%s, %s) AND reminded_at IS NULL AND remind_at IS NOT NULL"
    f" UNION ALL SELECT MIN(deadline) FROM {Assignment._meta.db_table}"
    f"  WHERE status IN (%s, %s) AND overdue_at IS NULL"
    f" UNION ALL SELECT MIN(dispatch_deadline) FROM {Case._meta.db_table}"
    f"  WHERE status IN (%s, %s) AND dispatch_overdue_at IS NULL AND dispatch_deadline IS NOT NULL"
    f") AS due_moments"
)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the few dozen a day the demo asks for."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
