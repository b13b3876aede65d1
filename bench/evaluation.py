"""Evaluation (issue 14): one month's full report on a city's year of history.

The city-scale demo city with 1,000,000 cases over the last 12 months (~80,000 in the measured
month, the last full one) and the trail the evaluation reads (bench/evaluation_trail.py: a grid
manager per grid, a desk per town and village, assignments with deadlines, returns and their
decisions, extensions, rework, verification events, reopenings, inspection tasks, track days).

- evaluation.<db>.month_seconds: compute() of the month for departments, grid managers, areas and
  desks, and every active scheme's scores of them (actions.score_rows with the version in force) —
  best of 3 (and month_median_seconds: the median of the 3); baseline: one hand-written SQL statement
  per source (the same rows, GROUP BY the same keys, the same conditions and EXISTS subqueries) on
  the raw DB-API cursor, best of 3, in the same run. The totals of several measures of both are
  checked equal before anything is timed.
- evaluation.<db>.case_lists_seconds: what a draft keeps besides its figures since the drafts freeze
  what was reviewed: the ids of the cases behind every counted figure of every subject
  (actions.frozen_case_ids, all four subject types), best of 3; baseline: the report above.
- evaluation.<db>.peak_mb: tracemalloc's peak (Python allocations) during one full report;
  baseline: the same for the hand-written SQL (fetching its rows).

On SQLite (var/bench-evaluation) and PostgreSQL (database wangge_bench_eval) when reachable; each in
its own process: python -m bench.evaluation --measure LABEL prints JSON. WANGGE_BENCH_EVAL_CASES
makes a smaller city for quick checks (its own databases, suffixed with the number);
WANGGE_BENCH_EVAL_SOURCES=0 leaves out the per-source timings (printed, and kept in the JSON).
"""

import gc
import json
import os
import re
import resource
import statistics
import sys
import time
import tracemalloc

from .common import ROOT, Result, ensure_city, machine, measure_in_child, on_sqlite_and_postgres

FULL = 1_000_000
CASES = int(os.environ.get("WANGGE_BENCH_EVAL_CASES", str(FULL)))
DAYS = 365
RUNS = 3
SUFFIX = "" if CASES == FULL else f"-{CASES}"
VAR = ROOT / "var" / f"bench-evaluation{SUFFIX}"
PG_URL = os.environ.get(
    "WANGGE_BENCH_EVAL_POSTGRES_URL", f"postgres://postgres@127.0.0.1:5432/wangge_bench_eval{SUFFIX.replace('-', '_')}"
)
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
SUBJECT_TYPES = ["department", "grid_manager", "area", "desk"]
HAND = "hand-written SQL per source"
# Totals checked equal between compute() and the hand-written SQL: (subject type, statement, measures).
CHECKS = [
    ("department", "assignments", ["due", "handled", "handled_on_time", "overdue", "rework", "returns_accepted",
                                   "returns_overruled", "extensions_granted", "responded", "satisfaction_points"]),
    ("grid_manager", "reports", ["reports", "valid_reports", "on_site"]),
    ("grid_manager", "verifications", ["verify_due", "verified", "verified_on_time"]),
    ("grid_manager", "inspections", ["tasks_due", "tasks_done", "tasks_on_time"]),
    ("grid_manager", "tracks", ["duty_hours", "grid_hours"]),
    ("area", "area_cases", ["reported", "registered", "closed", "closed_on_time", "closed_unfixed", "recurrent",
                            "reopened", "responded", "satisfied"]),
    ("desk", "desk_cases", ["received", "dispatched", "dispatched_on_time", "dispatch_hours", "dispatch_overdue"]),
    ("desk", "desk_registrations", ["registered", "register_hours"]),
]  # fmt: skip


# ------------------------------------------------------------------------------------------------
# The hand-written SQL: one statement per source of evaluation/indicators/*.py


def hand_statements(vendor: str) -> dict[str, str]:
    """{source: SQL} with %(name)s parameters (since, until, as_of: datetimes; start, end: dates)."""
    from django.conf import settings

    sqlite = vendor == "sqlite"
    respond, verify, recur = (
        settings.EVALUATION_RESPOND_HOURS,
        settings.EVALUATION_VERIFY_HOURS,
        settings.EVALUATION_RECURRENCE_DAYS,
    )

    def within(later, earlier, hours):  # later <= earlier + hours
        if sqlite:
            return f"julianday({later}) <= julianday({earlier}) + {hours / 24!r}"
        return f"{later} <= {earlier} + interval '{hours} hours'"

    def hours_sum(end, start, cond="TRUE"):
        if sqlite:
            return f"SUM(CASE WHEN {cond} THEN (julianday({end}) - julianday({start})) * 24 END)"
        return f"EXTRACT(EPOCH FROM SUM(CASE WHEN {cond} THEN {end} - {start} END)) / 3600"

    local_date = "date(t.done_at, '+8 hours')" if sqlite else "(t.done_at AT TIME ZONE 'Asia/Shanghai')::date"
    days_before = (
        f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', c.created_at, '-{recur} days')"
        if sqlite
        else f"c.created_at - interval '{recur} days'"
    )
    counted = "a.return_decision <> 'accepted'"
    handled = f"{counted} AND a.status = 'done'"
    rated = f"{counted} AND c.satisfaction IS NOT NULL"
    registered = "c.status NOT IN ('reported', 'rejected', 'merged')"
    overdue = (
        f"{counted} AND ((a.status = 'done' AND a.done_at > a.deadline) OR"
        " (a.status IN ('pending', 'accepted', 'returned') AND a.deadline < %(as_of)s))"
    )
    closed_on_time = (
        "c.status = 'closed' AND c.dispatch_overdue_at IS NULL AND NOT EXISTS (SELECT 1 FROM cases_assignment a"
        " WHERE a.case_id = c.id AND a.status <> 'cancelled' AND a.return_decision <> 'accepted'"
        " AND (a.overdue_at IS NOT NULL OR a.done_at > a.deadline))"
    )
    recurrent = (
        f"{registered} AND c.category_id IS NOT NULL AND EXISTS (SELECT 1 FROM cases_case e"
        " WHERE e.category_id = c.category_id AND e.area_id = c.area_id AND e.created_at < c.created_at"
        f" AND e.created_at >= {days_before} AND e.status NOT IN ('rejected', 'merged'))"
    )

    def n(cond, field="a.case_id"):
        return f"COUNT(DISTINCT CASE WHEN {cond} THEN {field} END)"

    def s(cond):
        return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def unanswered(limit):
        return (
            "EXISTS (SELECT 1 FROM cases_caseevent v WHERE v.case_id = c.id AND v.to_status = 'verifying'"
            " AND v.created_at >= %(since)s AND v.created_at < %(until)s AND NOT EXISTS (SELECT 1 FROM"
            " cases_caseevent w WHERE w.case_id = v.case_id AND w.action IN ('verify_pass', 'verify_fail')"
            f" AND w.created_at >= v.created_at AND {limit}))"
        )

    return {
        "assignments": f"""
SELECT a.department_id, SUBSTR(c.area_path, 1, 17) AS town,
  {n(counted)} AS due,
  {n(handled)} AS handled,
  {n(f"{handled} AND a.done_at <= a.deadline")} AS handled_on_time,
  {n(overdue)} AS overdue,
  {n(f"{counted} AND a.rework_count > 0")} AS rework,
  {n("a.return_decision = 'accepted'")} AS returns_accepted,
  {n("a.return_decision = 'overruled'")} AS returns_overruled,
  {n("a.status = 'returned' AND a.return_decision = ''")} AS returns_pending,
  {n(f"{counted} AND a.extension_status <> ''")} AS extensions_asked,
  {n(f"{counted} AND a.extension_status = 'approved'")} AS extensions_granted,
  {n(f"{counted} AND a.accepted_at IS NOT NULL AND {within('a.accepted_at', 'a.created_at', respond)}")} AS responded,
  {n(f"{handled} AND c.status = 'closed' AND c.outcome = 'fixed'")} AS resolved,
  {n(rated)} AS rated,
  {n(f"{rated} AND c.satisfaction >= 4")} AS satisfied,
  SUM(CASE WHEN {rated} THEN c.satisfaction END) AS satisfaction_points
FROM cases_assignment a JOIN cases_case c ON c.id = a.case_id
WHERE a.created_at >= %(since)s AND a.created_at < %(until)s AND a.status <> 'cancelled' AND c.status <> 'merged'
GROUP BY a.department_id, SUBSTR(c.area_path, 1, 17)""",
        "reports": f"""
SELECT c.reporter_id, COUNT(*) AS reports, {s(registered)} AS valid_reports, {s("c.handled_on_site")} AS on_site
FROM cases_case c
WHERE c.channel = 'grid_manager' AND c.reporter_id IS NOT NULL AND c.created_at >= %(since)s
  AND c.created_at < %(until)s
GROUP BY c.reporter_id""",
        "verifications": f"""
SELECT c.area_path, COUNT(*) AS verify_due,
  {s("NOT " + unanswered("w.created_at <= %(as_of)s"))} AS verified,
  {s("NOT " + unanswered(within("w.created_at", "v.created_at", verify)))} AS verified_on_time
FROM cases_case c
WHERE c.id IN (SELECT e.case_id FROM cases_caseevent e WHERE e.to_status = 'verifying'
               AND e.created_at >= %(since)s AND e.created_at < %(until)s)
GROUP BY c.area_path""",
        "inspections": f"""
SELECT t.area_path, COUNT(*) AS tasks_due, {s("t.status = 'done'")} AS tasks_done,
  {s(f"t.status = 'done' AND {local_date} <= t.due_date")} AS tasks_on_time
FROM patrol_inspectiontask t
WHERE t.due_date >= %(start)s AND t.due_date <= %(end)s AND t.status <> 'cancelled'
GROUP BY t.area_path""",
        "tracks": """
SELECT d.worker_id, SUM(d.seconds_on_duty) / 3600.0 AS duty_hours, SUM(d.seconds_in_grid) / 3600.0 AS grid_hours
FROM patrol_trackday d WHERE d.day >= %(start)s AND d.day <= %(end)s
GROUP BY d.worker_id""",
        "area_cases": f"""
SELECT c.area_path, COUNT(*) AS reported, {s(registered)} AS registered, {s("c.status = 'closed'")} AS closed,
  {s(closed_on_time)} AS closed_on_time,
  {s("c.status = 'closed' AND c.outcome IN ('not_responsible', 'cannot_fix', 'withdrawn')")} AS closed_unfixed,
  {s("c.status = 'closed' AND c.outcome IN ('fixed', 'handled_on_site')")} AS resolved,
  {s(recurrent)} AS recurrent,
  {s("EXISTS (SELECT 1 FROM cases_caseevent r WHERE r.case_id = c.id AND r.action = 'reopen')")} AS reopened,
  {s(f"{registered} AND c.dispatch_overdue_at IS NULL")} AS responded,
  COUNT(c.satisfaction) AS rated, {s("c.satisfaction >= 4")} AS satisfied, SUM(c.satisfaction) AS satisfaction_points
FROM cases_case c
WHERE c.created_at >= %(since)s AND c.created_at < %(until)s
GROUP BY c.area_path""",
        "desk_cases": f"""
SELECT c.command_level, c.area_path, COUNT(*) AS received, {s("c.dispatched_at IS NOT NULL")} AS dispatched,
  {s("c.dispatched_at IS NOT NULL AND (c.dispatch_deadline IS NULL OR c.dispatched_at <= c.dispatch_deadline)")}
    AS dispatched_on_time,
  {hours_sum("c.dispatched_at", "c.created_at", "c.dispatched_at IS NOT NULL")} AS dispatch_hours,
  {s("c.dispatch_overdue_at IS NOT NULL")} AS dispatch_overdue
FROM cases_case c
WHERE c.created_at >= %(since)s AND c.created_at < %(until)s
GROUP BY c.command_level, c.area_path""",
        "desk_registrations": f"""
SELECT c.command_level, c.area_path, COUNT(DISTINCT e.case_id) AS registered,
  {hours_sum("e.created_at", "c.created_at")} AS register_hours
FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id
WHERE e.action = 'register' AND c.created_at >= %(since)s AND c.created_at < %(until)s
GROUP BY c.command_level, c.area_path""",
    }


class HandReport:
    """The statements, ready for the raw DB-API cursor of this process's database."""

    def __init__(self, period, as_of):
        from django.db import connection

        connection.ensure_connection()
        self.raw = connection.connection  # the DB-API connection: no Django in the timed part
        ops, vendor = connection.ops, connection.vendor
        self.statements = hand_statements(vendor)
        self.params = {
            "since": ops.adapt_datetimefield_value(period.since),
            "until": ops.adapt_datetimefield_value(period.until),
            "as_of": ops.adapt_datetimefield_value(as_of),
            "start": ops.adapt_datefield_value(period.start),
            "end": ops.adapt_datefield_value(period.end),
        }
        if vendor == "sqlite":  # sqlite3's parameter style
            self.statements = {
                k: re.sub(r"%\((\w+)\)s", r":\1", sql).replace("%%", "%") for k, sql in self.statements.items()
            }

    def run_one(self, name):
        cursor = self.raw.cursor()
        try:
            cursor.execute(self.statements[name], self.params)
            columns = [c[0] for c in cursor.description]
            return columns, cursor.fetchall()
        finally:
            cursor.close()

    def run(self):
        return {name: self.run_one(name) for name in self.statements}


# ------------------------------------------------------------------------------------------------
# The engine's report


def engine_report(period, as_of):
    """compute() for every subject type, then every active scheme's scores (its version in force)."""
    from wangge.evaluation.actions import score_rows
    from wangge.evaluation.compute import compute
    from wangge.evaluation.models import Scheme

    results = {st: compute(st, period, as_of) for st in SUBJECT_TYPES}
    scored = {}
    for scheme in Scheme.objects.filter(is_active=True):
        version = scheme.version_for(period.start)
        if version is not None:
            scored[scheme.code] = score_rows(version, results[scheme.subject_type])
    return results, scored


def case_lists(period, as_of):
    """The counted case ids behind every figure, as a draft keeps them (actions.frozen_case_ids)."""
    from wangge.evaluation.actions import frozen_case_ids
    from wangge.evaluation.compute import context

    return {st: frozen_case_ids(st, context(st, period, as_of)) for st in SUBJECT_TYPES}


def check_totals(results, hand, period, log):
    """The totals of several measures agree between compute() and the hand-written SQL (give or
    take one case per accepted appeal: the hand-written SQL does not apply appeals)."""
    from wangge.areas.models import Area, Level
    from wangge.evaluation.models import Appeal, AppealStatus

    towns = set(Area.objects.filter(level=Level.TOWN).values_list("code", flat=True))
    appeals = Appeal.objects.filter(period_key=period.key, status=AppealStatus.ACCEPTED)
    for subject_type, statement, measures in CHECKS:
        accepted = appeals.filter(subject_type=subject_type).count()
        rows = results[subject_type]
        if subject_type == "department":
            rows = [r for r in rows if r.slice_path == ""]  # the whole city, not each town's slice
        elif subject_type == "area":
            rows = [r for r in rows if r.subject.key in towns]  # every case lies in exactly one town
        columns, hand_rows = hand[statement]
        for m in measures:
            ours = sum(r.measures[m] for r in rows)
            i = columns.index(m)
            theirs = sum(float(row[i] or 0) for row in hand_rows)
            tolerance = 1e-4 * len(rows) + 1e-9 * abs(theirs) + accepted  # compute() rounds to 4 places
            if abs(ours - theirs) > tolerance:
                raise AssertionError(f"{subject_type}.{m}: compute() {ours} ≠ hand-written SQL {theirs}")
        log(f"{subject_type:<12} {statement:<18} " + ", ".join(f"{m} {sum(r.measures[m] for r in rows):,.0f}"
                                                                  for m in measures))  # fmt: skip


def timed(fn, runs=RUNS):
    out = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def peak_mb(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def per_source(period, as_of, hand, log):
    """Where the time goes: each source's grouped query (engine) and its hand-written statement."""
    from wangge.evaluation.compute import context
    from wangge.evaluation.indicators import SOURCES

    names = {"Assignments": "assignments", "Reports": "reports", "Verifications": "verifications",
             "Inspections": "inspections", "Tracks": "tracks", "AreaCases": "area_cases",
             "DeskCases": "desk_cases", "DeskRegistrations": "desk_registrations"}  # fmt: skip
    out = {}
    for subject_type in SUBJECT_TYPES:
        ctx = context(subject_type, period, as_of)
        for source in SOURCES[subject_type]:
            name = names[type(source).__name__]
            engine = min(timed(lambda s=source, c=ctx: s.grouped(c), runs=1))
            raw = min(timed(lambda n=name: hand.run_one(n), runs=1))
            out[name] = {"engine": engine, "hand": raw}
            log(f"{name:<20} engine {engine:7.2f} s   hand-written SQL {raw:7.2f} s")
    return out


def prepare(log):
    from django.db import connection

    from .evaluation_trail import generate

    start = time.perf_counter()
    made = generate(CASES, DAYS, log)
    if made:
        log(f"generated in {time.perf_counter() - start:,.0f} s")
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            # the bulk inserts leave a WAL of gigabytes, and every read looks through it: fold it in
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            c.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            analysed = c.fetchone() and c.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'cases_caseevent'").fetchone()
        else:
            c.execute("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'cases_caseevent'")
            analysed = (c.fetchone() or [False])[0]
        if made or not analysed:
            start = time.perf_counter()
            c.execute("ANALYZE")
            log(f"ANALYZE in {time.perf_counter() - start:,.0f} s")


def measure(label):
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from wangge.cases.models import Case
    from wangge.evaluation.period import last_month

    def log(line):
        print(f"   [{label}] {line}", file=sys.stderr, flush=True)

    prepare(log)
    period, as_of = last_month(), timezone.now()
    in_month = Case.objects.filter(created_at__gte=period.since, created_at__lt=period.until).count()
    log(f"{Case.objects.count():,} cases; {in_month:,} reported in {period.key}")
    hand = HandReport(period, as_of)
    results, scored = engine_report(period, as_of)  # warm, and checked
    check_totals(results, hand.run(), period, log)
    log("subjects: " + ", ".join(f"{st} {len(results[st]):,}" for st in SUBJECT_TYPES)
        + f"; {len(scored)} schemes scored")  # fmt: skip
    ours = timed(lambda: engine_report(period, as_of))
    theirs = timed(hand.run)
    lists = timed(lambda: case_lists(period, as_of))
    mem_ours, mem_theirs = peak_mb(lambda: engine_report(period, as_of)), peak_mb(hand.run)
    sources = per_source(period, as_of, hand, log) if os.environ.get("WANGGE_BENCH_EVAL_SOURCES", "1") == "1" else {}
    print(json.dumps({
        "seconds": min(ours), "median": statistics.median(ours), "hand": min(theirs),
        "hand_median": statistics.median(theirs), "peak_mb": mem_ours, "hand_peak_mb": mem_theirs,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "sources": sources,
        "lists": min(lists), "lists_median": statistics.median(lists),
        "runs": ours, "hand_runs": theirs, "lists_runs": lists, "vendor": connection.vendor,
    }))  # fmt: skip


def results_for(label, env):
    ensure_city(label, env)
    got = measure_in_child("bench.evaluation", label, env)
    print(
        f"   {label}: month report {got['seconds']:.1f} s best, {got['median']:.1f} s median"
        f" (hand-written SQL {got['hand']:.1f} s best, {got['hand_median']:.1f} s median);"
        f" peak {got['peak_mb']:.0f} MB (SQL {got['hand_peak_mb']:.1f} MB; process max RSS {got['maxrss_mb']:.0f} MB);"
        f" the draft's case lists {got['lists']:.1f} s best, {got['lists_median']:.1f} s median",
        flush=True,
    )
    ran_on = machine(DATABASES[label])
    return [
        Result(f"evaluation.{label}.month_seconds", got["seconds"], "s", HAND, got["hand"],
               got["seconds"] / got["hand"], ran_on),
        Result(f"evaluation.{label}.month_median_seconds", got["median"], "s", f"{HAND}, median",
               got["hand_median"], got["median"] / got["hand_median"], ran_on),
        Result(f"evaluation.{label}.case_lists_seconds", got["lists"], "s", "the month's report (compute + scoring)",
               got["seconds"], got["lists"] / got["seconds"], ran_on),
        Result(f"evaluation.{label}.peak_mb", got["peak_mb"], "MB", f"{HAND}, tracemalloc",
               got["hand_peak_mb"], got["peak_mb"] / got["hand_peak_mb"], ran_on),
    ]  # fmt: skip


def run():
    VAR.mkdir(parents=True, exist_ok=True)
    return on_sqlite_and_postgres(results_for, VAR, PG_URL)


if __name__ == "__main__" and sys.argv[1:2] == ["--measure"]:
    measure(sys.argv[2])
