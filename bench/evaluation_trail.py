"""The evaluation bench's city: the dashboard's generated history (common.generate_cases) with the
trail the evaluation reads, all by raw SQL (executemany):

- people: one grid manager per grid (the demo city has two), a dispatcher desk per town and village;
- cases: reported by the grid's manager (grid-manager channel), registered some time after the
  report (a `register` event), dispatched in time or late (dispatch_overdue_at), standing at the
  village, town or city desk; closed fixed after verification, handled on site, closed without a fix
  (assignments cancelled), rejected, merged, or still open (some awaiting verification for weeks);
  rated by the citizen on some; reopened on a few;
- assignments: one department, sometimes two; accepted in time or not, extensions asked (granted,
  refused, pending), returns (accepted → dispatched to another department, overruled → done by the
  same one, undecided), done on time, late or not yet, rework (a verification failed: rework_count);
- case events for every step (report, register, dispatch, accept, extension, return, feedback — the
  last one to "verifying" —, verify_pass / verify_fail, some late, some missing, close, reject,
  merge, handle_on_site, evaluate, reopen, overdue marks);
- inspection tasks (8 a month per grid, done on time, late, open or cancelled) and GPS track days
  (no points, only the day's figures) of every grid manager over the same year.
"""

import random
from datetime import date, datetime, time, timedelta

from .common import CaseHistory, Drawn, RawTable

H = 1.0  # an hour, in the plan's unit
DISPATCH_HOURS = 4  # the dispatch deadline after the report (as the dashboard's history has it)
CLOSING_OUTCOMES = ["not_responsible", "cannot_fix", "withdrawn"]
REPORTER_ROLE = {"grid_manager": "grid_manager", "citizen_web": "citizen", "hotline": "city_dispatcher"}
DESK_ROLE = {"village": "village_dispatcher", "town": "town_dispatcher", "city": "city_dispatcher"}


class Plan:
    """One case's trail, in hours after its report (made absolute, and squeezed before now, at the end)."""

    def __init__(self):
        self.events: list[tuple[str, str, str, str, float]] = []  # action, from, to, role, at
        self.assignments: list[dict] = []
        self.status = "reported"
        self.outcome = ""
        self.dispatched = None
        self.dispatch_overdue = None
        self.closed = None

    def event(self, action, to_status, role, at):
        self.events.append((action, self.status, to_status, role, at))
        self.status = to_status

    def last(self) -> float:
        times = [e[4] for e in self.events]
        for a in self.assignments:
            times += [t for t in (a["accepted"], a["done"], a["decided"]) if t is not None]
        return max(times)


class EvaluationHistory(CaseHistory):
    case_columns = [*CaseHistory.case_columns, "reporter_id", "dispatch_overdue_at"]
    assignment_columns = [
        "case_id", "department_id", "status", "deadline", "overdue_at", "extension_status", "extension_hours",
        "extension_reason", "feedback", "return_reason", "return_decision", "return_decided_at", "rework_count",
        "created_at", "accepted_at", "done_at",
    ]  # fmt: skip
    event_columns = ["case_id", "action", "from_status", "to_status", "actor_role", "note", "created_at"]

    def __init__(self, now, days):
        from wangge.accounts.models import Department
        from wangge.cases.models import CaseEvent

        super().__init__(now, days)
        self.tables["event"] = RawTable(CaseEvent, self.event_columns)
        self.rng = random.Random(14)
        self.managers = grid_managers()
        self.departments = list(Department.objects.order_by("pk").values_list("pk", flat=True))
        self.plans: dict[int, tuple[Plan, float]] = {}

    # ---- the plan

    def plan(self, d: Drawn) -> Plan:
        rnd, uni = self.rng.random, self.rng.uniform
        p = Plan()
        old = (self.now - d.created).days > 14
        status = d.status
        if status == "handling" and old and rnd() < 0.35:
            status = "verifying"  # reported back weeks ago, never verified
        p.event("report", "reported", REPORTER_ROLE.get(d.channel, ""), 0.0)
        if status in ("rejected", "merged"):
            p.event("reject" if status == "rejected" else "merge", status, "village_dispatcher", uni(0.2, 30))
            p.closed = p.events[-1][4]
            return p
        if status == "reported":
            return p
        registered = uni(0.05, 3) if rnd() < 0.9 else uni(3, 30)
        p.event("register", "registered", "village_dispatcher", registered)
        if status == "registered":
            return p
        if d.on_site:
            p.event("handle_on_site", "closed", "grid_manager", registered + uni(0.1, 2))
            p.outcome, p.closed = "handled_on_site", p.events[-1][4]
            self.rate(p, d)
            return p
        self.dispatch(p, d, status, registered)
        return p

    def dispatch(self, p: Plan, d: Drawn, status: str, registered: float):
        rnd, uni = self.rng.random, self.rng.uniform
        deadline = DISPATCH_HOURS * H
        if registered < deadline and rnd() < 0.93:
            dispatched = registered + uni(0.02, 0.95) * (deadline - registered)
        else:
            dispatched = max(registered, deadline) + uni(0.2, 12)
            p.events.append(("dispatch_overdue", p.status, p.status, "", deadline))
            p.dispatch_overdue = deadline
        p.event("dispatch", "handling", "village_dispatcher", dispatched)
        p.dispatched = dispatched
        finished = status in ("verifying", "closed")
        unfixed = status == "closed" and rnd() < 0.08  # the dispatcher closes it without a fix
        departments = [d.department_id]
        if rnd() < 0.05:  # joint handling
            departments.append(self.rng.choice([x for x in self.departments if x != d.department_id]))
        returned = rnd() < 0.07
        decision = ""
        if returned:
            r = rnd()
            decision = (
                ("accepted" if r < 0.6 else "overruled")
                if finished or unfixed
                else ("accepted" if r < 0.4 else "overruled" if r < 0.7 else "")
            )
        done_times = []
        # the moment the deadlines stop counting: the dispatcher's close, else now
        self.horizon = dispatched + uni(2, 72) if unfixed else self.hours_to_now
        for k, department in enumerate(departments):
            a = self.assignment(p, department, dispatched, finished and not unfixed, returned and k == 0, decision)
            if a["decision"] == "accepted":  # dispatched again, to another department
                again = self.rng.choice([x for x in self.departments if x not in departments])
                p.event("dispatch", "handling", "village_dispatcher", a["decided"] + uni(0.1, 2))
                a = self.assignment(p, again, p.events[-1][4], finished and not unfixed, False, "")
            if a["done"] is not None:
                done_times.append(a["done"])
        if unfixed:
            at = self.horizon
            for a in p.assignments:
                if a["status"] in ("pending", "accepted"):
                    a["status"] = "cancelled"
            p.event("close", "closed", "village_dispatcher", at)
            p.outcome, p.closed = self.rng.choice(CLOSING_OUTCOMES), at
            self.rate(p, d)
            return
        if not finished or not done_times:
            return
        self.verify(p, d, status, max(done_times))

    def assignment(self, p: Plan, department, at, finish, returns, decision) -> dict:
        rnd, uni = self.rng.random, self.rng.uniform
        hours = self.rng.choice([24, 48, 48, 72])
        a = {
            "department": department, "status": "pending", "created": at, "deadline": at + hours, "overdue": None,
            "extension": "", "extension_hours": None, "return_reason": "", "decision": "", "decided": None,
            "rework": 0, "accepted": None, "done": None,
        }  # fmt: skip
        p.assignments.append(a)
        if not finish and rnd() < 0.1:
            self.mark_overdue(p, a)
            return a  # never accepted
        a["accepted"] = at + (uni(0.05, 1.8) if rnd() < 0.75 else uni(1.8, 12))
        a["status"] = "accepted"
        p.event("accept", "handling", "department_handler", a["accepted"])
        r = rnd()
        if r < 0.06:
            asked = a["accepted"] + uni(1, hours * 0.8)
            p.event("request_extension", "handling", "department_handler", asked)
            a["extension"], a["extension_hours"] = "requested", 24.0
            if r < 0.05 or finish:
                p.event("decide_extension", "handling", "village_dispatcher", asked + uni(0.2, 6))
                a["extension"] = "approved" if r < 0.04 else "refused"
                if a["extension"] == "approved":
                    a["deadline"] += 24
        if returns:
            back = a["accepted"] + uni(1, 24)
            p.event("return", "handling", "department_handler", back)
            a["status"], a["return_reason"] = "returned", "不属于本部门职责"
            if decision:
                a["decided"] = back + uni(0.5, 12)
                p.event("decide_return", "handling", "village_dispatcher", a["decided"])
                a["decision"] = decision
                if decision == "overruled":
                    a["status"] = "accepted"
            if a["status"] == "returned":
                self.mark_overdue(p, a, a["decided"])
                return a
        if not finish:
            self.mark_overdue(p, a)
            return a
        start = a["decided"] or a["accepted"]
        if rnd() < 0.12:  # late
            a["done"] = max(start, a["deadline"]) + uni(1, 72)
        else:
            a["done"] = start + uni(0.05, 0.97) * max(0.2, a["deadline"] - start)
            a["done"] = min(a["done"], a["deadline"] - 0.01) if a["deadline"] > start else a["done"]
        a["status"] = "done"
        if a["done"] > a["deadline"]:
            a["overdue"] = a["deadline"]
            p.events.append(("overdue", "handling", "handling", "", a["deadline"]))
        p.event("feedback", "handling", "department_handler", a["done"])
        return a

    def mark_overdue(self, p: Plan, a: dict, until: float | None = None):
        """An open assignment past its deadline before `until` (a return accepted, the case closed
        by the dispatcher, or now): the worker marked it."""
        if a["deadline"] < (until if until is not None else self.horizon):
            a["overdue"] = a["deadline"]
            p.events.append(("overdue", "handling", "handling", "", a["deadline"]))

    def verify(self, p: Plan, d: Drawn, status: str, done: float):
        rnd, uni = self.rng.random, self.rng.uniform
        last = max((e for e in p.events if e[0] == "feedback"), key=lambda e: e[4])  # the last report back
        p.events[p.events.index(last)] = (*last[:2], "verifying", *last[3:])
        p.status = "verifying"
        if status == "verifying":
            return  # the verification is missing
        at = done
        fails = 2 if rnd() < 0.01 else 1 if rnd() < 0.08 else 0
        for _n in range(fails):
            at += uni(0.5, 20)
            p.event("verify_fail", "handling", "grid_manager", at)
            at += uni(4, 48)
            for a in p.assignments:
                if a["status"] == "done":
                    a["rework"] += 1
                    a["done"] = at
            p.event("feedback", "verifying", "department_handler", at)
        at += uni(0.2, 20) if rnd() < 0.88 else uni(24.5, 72)  # some verifications come late
        p.event("verify_pass", "closed", "grid_manager", at)
        p.outcome, p.closed = "fixed", at
        if rnd() < 0.01:  # reopened once, handled again, verified again
            at += uni(12, 96)
            p.event("reopen", "handling", "village_dispatcher", at)
            at += uni(4, 48)
            p.event("feedback", "verifying", "department_handler", at)
            at += uni(0.5, 20)
            p.event("verify_pass", "closed", "grid_manager", at)
            p.closed = at
        self.rate(p, d)

    def rate(self, p: Plan, d: Drawn):
        if d.satisfaction is not None:
            p.events.append(("evaluate", "closed", "closed", "citizen", p.closed + self.rng.uniform(1, 48)))

    # ---- rows

    def case_row(self, d: Drawn) -> tuple:
        self.hours_to_now = (self.now - d.created).total_seconds() / 3600
        p = self.plan(d)
        last = p.last()
        # a case reported a little while ago has lived its trail faster (nothing after now)
        squeeze = min(1.0, (self.hours_to_now - 1 / 60) / last) if last > 0 else 1.0
        self.plans[d.n] = (p, squeeze)
        at = self.clock(d, squeeze)
        level = "village" if (r := self.rng.random()) < 0.85 else "town" if r < 0.97 else "city"
        late = any(a["overdue"] is not None for a in p.assignments)
        satisfaction = d.satisfaction if p.status == "closed" else None
        reporter = self.managers.get(d.path) if d.channel == "grid_manager" else None
        return (
            f"B{d.n:09d}", f"B{d.n:011d}"[:12], d.channel, p.status, p.outcome, "", "normal", "压测案件", "",
            d.lat, d.lng, d.grid_id, d.path, level, d.category_id, "", "", at(DISPATCH_HOURS * H), late,
            p.outcome == "handled_on_site", satisfaction, "", len(p.events), at(0), at(last), at(p.dispatched),
            at(p.closed), reporter, at(p.dispatch_overdue),
        )  # fmt: skip

    def clock(self, d: Drawn, squeeze: float):
        dt, created = self.dt, d.created

        def at(hours):
            return None if hours is None else dt(created + timedelta(hours=hours * squeeze))

        return at

    def rows_after(self, d: Drawn, case_id: int) -> dict[str, list[tuple]]:
        p, squeeze = self.plans.pop(d.n)
        at = self.clock(d, squeeze)
        assignments = [
            (
                case_id, a["department"], a["status"], at(a["deadline"]), at(a["overdue"]), a["extension"],
                a["extension_hours"], "需要更多时间" if a["extension"] else "", "已处理" if a["done"] else "",
                a["return_reason"], a["decision"], at(a["decided"]), a["rework"], at(a["created"]), at(a["accepted"]),
                at(a["done"]),
            )
            for a in p.assignments
        ]  # fmt: skip
        events = [(case_id, action, frm, to, role, "", at(t)) for action, frm, to, role, t in p.events]
        return {"assignment": assignments, "event": events}


# ------------------------------------------------------------------------------------------------
# People, inspection tasks, track days


def grid_managers() -> dict[str, int]:
    """{grid path: the user id of its (first) grid manager}."""
    from wangge.accounts.models import Membership, Role

    rows = Membership.objects.filter(role=Role.GRID_MANAGER, area__isnull=False).order_by("pk")
    out: dict[str, int] = {}
    for user_id, path in rows.values_list("user_id", "area__path"):
        out.setdefault(path, user_id)
    return out


def ensure_people(log) -> None:
    """A grid manager for every grid without one, a dispatcher for every town and village desk."""
    from django.db import connection, transaction
    from django.utils import timezone

    from wangge.accounts.models import Membership, Role, User
    from wangge.areas.models import Area, Level

    wanted = []  # (username, full name, role, area id)
    held = set(Membership.objects.filter(area__isnull=False).values_list("role", "area_id"))
    for level, role in [(Level.GRID, Role.GRID_MANAGER), (Level.TOWN, Role.TOWN_DISPATCHER),
                        (Level.VILLAGE, Role.VILLAGE_DISPATCHER)]:  # fmt: skip
        for area_id, code, name in Area.objects.filter(level=level).values_list("id", "code", "name").order_by("code"):
            if (role, area_id) not in held:
                wanted.append((f"bench_{role}_{code}", f"{name}{Role(role).label}", role, area_id))
    if not wanted:
        return
    now = timezone.now()
    users = RawTable(User, ["username", "password", "full_name", "is_active", "date_joined"])
    memberships = RawTable(Membership, ["user_id", "role", "area_id", "created_at"])
    dt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:
        users.insert(cursor, [(u, "!", name, True, dt(now)) for u, name, _role, _area in wanted])
        ids = dict(User.objects.filter(username__startswith="bench_").values_list("username", "pk"))
        memberships.insert(cursor, [(ids[u], role, area, dt(now)) for u, _name, role, area in wanted])
    log(f"{len(wanted):,} grid managers and desk dispatchers added")


def ensure_tasks_and_tracks(log, days: int) -> None:
    """Inspection tasks (8 a month per grid) and track days (working days, and some weekends) of
    every grid manager over the last `days`; once."""
    from django.db import connection, transaction
    from django.utils import timezone

    from wangge.accounts.models import Membership, Role
    from wangge.areas.models import Area, Level
    from wangge.patrol.models import InspectionTask, TrackDay

    if InspectionTask.objects.filter(target_key__startswith="bench:").exists():
        return
    rng = random.Random(15)
    today = timezone.localdate()
    first = today - timedelta(days=days)
    dt, day_value = connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value
    tz = timezone.get_current_timezone()
    tasks = RawTable(InspectionTask, [
        "target_kind", "target_key", "area_path", "checklist_code", "due_date", "status", "risk_class",
        "created_at", "done_at",
    ])  # fmt: skip
    n = 0
    grids = list(Area.objects.filter(level=Level.GRID).values_list("path", flat=True).order_by("path"))
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(grids), 500):
            rows = []
            for path in grids[start : start + 500]:
                for _k in range(round(8 * days / 30.4)):
                    due = first + timedelta(days=rng.randrange(days + 30))
                    created = datetime.combine(due - timedelta(days=14), time(1), tz)
                    status, done = "open", None
                    if due < today:
                        r = rng.random()
                        status = "done" if r < 0.85 else "cancelled" if r < 0.9 else "open"
                    if status == "done":
                        lag = rng.uniform(-5, 0) if rng.random() < 0.8 else rng.uniform(0.5, 6)
                        done = datetime.combine(due, time(10), tz) + timedelta(days=lag)
                    n += 1
                    rows.append(("building", f"bench:{n}", path, "building", day_value(due), status,
                                 rng.choice([1, 2, 3]), dt(created), dt(done)))  # fmt: skip
            tasks.insert(cursor, rows)
    log(f"{n:,} inspection tasks")
    tracks = RawTable(TrackDay, [
        "worker_id", "day", "first_at", "last_at", "distance_m", "seconds_on_duty", "seconds_in_grid", "updated_at",
    ])  # fmt: skip
    workers = sorted(set(Membership.objects.filter(role=Role.GRID_MANAGER).values_list("user_id", flat=True)))
    have = set(TrackDay.objects.values_list("worker_id", "day"))
    n = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(workers), 200):
            rows = []
            for worker in workers[start : start + 200]:
                keen = rng.uniform(0.6, 1.0)  # some managers spend less of their day in their grid
                for k in range(days):
                    day: date = first + timedelta(days=k)
                    if (day.weekday() >= 5 and rng.random() > 0.2) or rng.random() > 0.95 or (worker, day) in have:
                        continue
                    begin = datetime.combine(day, time(8), tz) + timedelta(minutes=rng.uniform(0, 90))
                    duty = rng.uniform(4, 9) * 3600
                    rows.append((worker, day_value(day), dt(begin), dt(begin + timedelta(seconds=duty + 3600)),
                                 rng.uniform(3000, 15000), int(duty), int(duty * keen * rng.uniform(0.8, 1.0)),
                                 dt(begin + timedelta(seconds=duty + 3600))))  # fmt: skip
            tracks.insert(cursor, rows)
            n += len(rows)
    log(f"{n:,} track days")


def generate(cases: int, days: int, log) -> bool:
    from .common import generate_cases

    ensure_people(log)
    made = generate_cases(cases, log, EvaluationHistory, days)
    ensure_tasks_and_tracks(log, days)
    return made


__all__ = ["EvaluationHistory", "generate"]
