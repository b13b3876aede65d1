"""Dashboard figures and the map viewport on a city's history: 1,000,000 cases over a year in the
city-scale demo city (bulk-inserted, with their assignments), figures built by the worker's code.

- dashboard.<db>.town_month_p95_ms: the whole dashboard of a town (厚街) for the previous
  calendar month (summary, today, channels, top 10 categories, daily trend, villages ranked,
  departments ranked, overdue list), as the page computes it from the daily figure tables;
  baseline: the same aggregations as hand-written raw SQL straight over the cases (and
  assignments), index-friendly (area path range, created_at range), in the same run.
- dashboard.<db>.heat_year_p95_ms: the heat map of the town's cases this year (250 m bins, as
  the command page asks for it) as its dispatcher sees it; baseline: the same bins by raw SQL
  without the jurisdiction filter.
- dashboard.<db>.viewport_p95_ms: the map's viewport query of open cases over the town as its
  dispatcher sees it (jurisdiction included; points, or cells when > 1,500), and small viewports
  panned over the town; baseline: the same rows/cells by raw SQL without the jurisdiction filter.

On SQLite (var/bench-dashboard) and PostgreSQL (database wangge_bench_dash) when reachable.
Each DB runs in its own process: python -m bench.dashboard --measure LABEL prints JSON.
"""

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta

from .common import ROOT, Result, ensure_city, generate_cases, machine, measure_in_child, on_sqlite_and_postgres

CASES = int(os.environ.get("WANGGE_BENCH_DASH_CASES", "1000000"))
DAYS = 365
RUNS = 40
TOWN = "441900122"
PG_URL = os.environ.get("WANGGE_BENCH_DASH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/wangge_bench_dash")
VAR = ROOT / "var" / "bench-dashboard"
RAW_DASHBOARD = "raw SQL over the cases, same aggregations"
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def p95(values):
    return statistics.quantiles(values, n=20)[18]


def timed(fn, runs=RUNS):
    fn()  # warm
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


# ------------------------------------------------------------------------------------------------
# Raw SQL baselines


def raw_subtree(vendor, column, path):
    """(SQL, args) of an area's subtree: a range of the binary-collated text on SQLite (its LIKE
    cannot use an index), LIKE 'prefix%' on PostgreSQL (Django's pattern index on the column)."""
    if vendor == "sqlite":
        return f"{column} >= %s AND {column} < %s", [path, path[:-1] + "0"]
    return f"{column} LIKE %s", [path + "%"]


def raw_dashboard(cursor, vendor, town_path, start, end, today_start, today_end):
    """The dashboard's aggregations written by hand straight over cases_case / cases_assignment."""
    in_town, town_args = raw_subtree(vendor, "c.area_path", town_path)
    where = f"{in_town} AND c.created_at >= %s AND c.created_at < %s"
    args = [*town_args, start, end]
    measures = (
        "COUNT(*), SUM(CASE WHEN c.status IN ('reported','registered','handling','verifying') THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END), SUM(CASE WHEN c.status = 'rejected' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.status = 'merged' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.status IN ('closed','rejected') AND NOT c.is_overdue THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.is_overdue THEN 1 ELSE 0 END), SUM(CASE WHEN c.handled_on_site THEN 1 ELSE 0 END),"
        " COUNT(c.satisfaction), SUM(c.satisfaction)"
    )
    local_day = (
        "date(c.created_at, '+8 hours')" if vendor == "sqlite" else "(c.created_at AT TIME ZONE 'Asia/Shanghai')::date"
    )
    child = f"substr(c.area_path, 1, {len(town_path) + 13})"
    out = []
    for sql, a in [
        (f"SELECT {measures} FROM cases_case c WHERE {where}", args),
        (f"SELECT {measures} FROM cases_case c WHERE {where}", [*town_args, today_start, today_end]),
        (f"SELECT c.channel, COUNT(*) FROM cases_case c WHERE {where} GROUP BY c.channel", args),
        (
            f"SELECT c.category_id, COUNT(*) n FROM cases_case c WHERE {where}"
            " GROUP BY c.category_id ORDER BY n DESC LIMIT 10",
            args,
        ),
        (
            f"SELECT {local_day}, COUNT(*), SUM(CASE WHEN c.status IN ('closed','rejected') THEN 1 ELSE 0 END)"
            f" FROM cases_case c WHERE {where} GROUP BY 1",
            args,
        ),
        (f"SELECT {child}, {measures} FROM cases_case c WHERE {where} GROUP BY 1", args),
        (
            "SELECT a.department_id, COUNT(*), SUM(CASE WHEN a.status = 'done' THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN a.status = 'done' AND a.overdue_at IS NULL THEN 1 ELSE 0 END)"
            f" FROM cases_assignment a JOIN cases_case c ON c.id = a.case_id WHERE {where} AND a.status <> 'cancelled'"
            " GROUP BY a.department_id",
            args,
        ),
        (
            "SELECT c.id, c.number FROM cases_case c WHERE c.status IN ('reported','registered','handling','verifying')"
            f" AND c.is_overdue AND {in_town} ORDER BY c.created_at LIMIT 20",
            town_args,
        ),
    ]:  # fmt: skip
        cursor.execute(sql, a)
        out.append(cursor.fetchall())
    return out


def raw_viewport(cursor, bbox, limit=1500):
    west, south, east, north = bbox
    where = (
        "status IN ('reported','registered','handling','verifying') AND lat >= %s AND lat <= %s"
        " AND lng >= %s AND lng <= %s"
    )
    args = [south, north, west, east]
    cursor.execute(
        f"SELECT id, number, lat, lng, status, is_overdue FROM cases_case WHERE {where} LIMIT {limit + 1}", args
    )
    rows = cursor.fetchall()
    if len(rows) <= limit:
        return rows
    cell = (east - west) / 48
    cursor.execute(
        f"SELECT CAST(lng / {cell} AS INTEGER), CAST(lat / {cell} AS INTEGER), COUNT(*), AVG(lat), AVG(lng)"
        f" FROM cases_case WHERE {where} GROUP BY 1, 2",
        args,
    )
    return cursor.fetchall()


def raw_heat(cursor, vendor, town_path, start, end, dlat, dlng):
    """The heat map's bins by hand: the town's cases of the period (merged ones aside), per bin."""
    in_town, args = raw_subtree(vendor, "area_path", town_path)
    if vendor == "sqlite":  # coordinates are positive here: CAST truncates as FLOOR would
        by, bx = f"CAST(lat / {dlat} AS INTEGER)", f"CAST(lng / {dlng} AS INTEGER)"
        created = "+created_at"  # the path range drives (see insight.queries._period_column)
    else:
        by, bx = f"FLOOR(lat / {dlat})", f"FLOOR(lng / {dlng})"
        created = "created_at"
    cursor.execute(
        f"SELECT {by}, {bx}, COUNT(*) FROM cases_case WHERE {in_town} AND {created} >= %s AND {created} < %s"
        " AND lat IS NOT NULL AND lng IS NOT NULL AND status <> 'merged' GROUP BY 1, 2",
        [*args, start, end],
    )
    return cursor.fetchall()


# ------------------------------------------------------------------------------------------------


def measure(label):
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from wangge.accounts.models import User
    from wangge.areas.models import Area
    from wangge.insight import facts, figures, queries
    from wangge.insight.models import DailyCaseFigure

    def log(line):
        print(f"   [{label}] {line}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    # figures are built day by day from the first: a build cut short has no rows for yesterday
    complete = DailyCaseFigure.objects.filter(day__gte=timezone.localdate() - timedelta(days=1)).exists()
    if generate_cases(CASES, log, days=DAYS) or not complete:
        log(f"generated in {time.perf_counter() - start:,.0f} s; building the daily figures")
        start = time.perf_counter()
        facts.refresh_all()
        log(f"daily figures built in {time.perf_counter() - start:,.0f} s ({DailyCaseFigure.objects.count():,} rows)")
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE")
    else:
        with connection.cursor() as c:
            c.execute("ANALYZE")
    town = Area.objects.get(code=TOWN)
    first_of_month = timezone.localdate().replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=1)
    period = figures.Period("custom", last_month, first_of_month - timedelta(days=1))
    result = figures.dashboard(town, period)
    assert result["summary"]["total"] > 0, result["summary"]
    ours = timed(lambda: figures.dashboard(town, period))
    adapt = connection.ops.adapt_datetimefield_value  # SQLite stores UTC text: compare like with like
    bounds = [adapt(facts.day_bounds(period.start)[0]), adapt(facts.day_bounds(period.end)[1])]
    today = [adapt(t) for t in facts.day_bounds(timezone.localdate())]
    with connection.cursor() as cursor:
        raw_args = (cursor, connection.vendor, town.path, *bounds, *today)
        raw = timed(lambda: raw_dashboard(*raw_args))
        check = raw_dashboard(*raw_args)[0][0]
    assert check[0] == result["summary"]["total"], (check, result["summary"])  # the same cases counted

    user = User.objects.get(username="town_dispatcher")
    whole = (town.min_lng, town.min_lat, town.max_lng, town.max_lat)
    rng = random.Random(1)
    boxes = [whole]
    for _ in range(9):  # the dispatcher zoomed in and panning: ~2 km boxes inside the town
        lng = rng.uniform(town.min_lng, town.max_lng - 0.02)
        lat = rng.uniform(town.min_lat, town.max_lat - 0.02)
        boxes.append((lng, lat, lng + 0.02, lat + 0.02))
    box_strings = [",".join(f"{v:.6f}" for v in b) for b in boxes]
    counts = [queries.viewport(user, b)["count"] for b in box_strings]
    vp, vp_raw = [], []
    with connection.cursor() as cursor:
        for b, s in zip(boxes, box_strings, strict=True):
            vp += timed(lambda s=s: queries.viewport(user, s), runs=RUNS // 4)
            vp_raw += timed(lambda b=b: raw_viewport(cursor, b), runs=RUNS // 4)
    year = figures.period_from("year")
    heat = queries.heat(user, town, year)
    dlat, dlng = queries.bin_size(heat["cell_m"], town.centroid_lat)
    heat_bounds = [adapt(facts.day_bounds(year.start)[0]), adapt(facts.day_bounds(year.end)[1])]
    with connection.cursor() as cursor:
        heat_args = (cursor, connection.vendor, town.path, *heat_bounds, dlat, dlng)
        heat_raw = timed(lambda: raw_heat(*heat_args), runs=RUNS // 4)
        assert sum(r[2] for r in raw_heat(*heat_args)) == heat["count"], heat["count"]  # the same cases binned
    heat_ours = timed(lambda: queries.heat(user, town, year), runs=RUNS // 4)
    log(f"town year heat map: {heat['count']:,} cases in {len(heat['points']):,} bins")
    log(
        f"town month: {result['summary']['total']:,} cases; viewport counts {counts[0]:,} (whole town), "
        f"{min(counts[1:]):,}–{max(counts[1:]):,} (2 km boxes)"
    )
    print(json.dumps({
        "dashboard": p95(ours), "dashboard_raw": p95(raw), "viewport": p95(vp), "viewport_raw": p95(vp_raw),
        "heat": p95(heat_ours), "heat_raw": p95(heat_raw),
        "cases": connection.cursor().execute("SELECT COUNT(*) FROM cases_case").fetchone()[0]
        if connection.vendor == "sqlite" else None,
    }))  # fmt: skip


def results_for(label, env):
    ensure_city(label, env)
    got = measure_in_child("bench.dashboard", label, env)
    print(
        f"   {label}: dashboard p95 {got['dashboard']:.1f} ms (raw SQL {got['dashboard_raw']:.1f}),"
        f" viewport p95 {got['viewport']:.1f} ms (raw {got['viewport_raw']:.1f}),"
        f" year heat map p95 {got['heat']:.1f} ms (raw {got['heat_raw']:.1f})",
        flush=True,
    )
    dash, dash_raw, vp, vp_raw = got["dashboard"], got["dashboard_raw"], got["viewport"], got["viewport_raw"]
    ran_on = machine(DATABASES[label])  # the child's database, not this process's DATABASE_URL
    return [
        Result(f"dashboard.{label}.town_month_p95_ms", dash, "ms", RAW_DASHBOARD, dash_raw, dash / dash_raw, ran_on),
        Result(
            f"dashboard.{label}.viewport_p95_ms",
            vp,
            "ms",
            "raw SQL viewport, no jurisdiction",
            vp_raw,
            vp / vp_raw,
            ran_on,
        ),
        Result(
            f"dashboard.{label}.heat_year_p95_ms",
            got["heat"],
            "ms",
            "raw SQL bins, no jurisdiction",
            got["heat_raw"],
            got["heat"] / got["heat_raw"],
            ran_on,
        ),
    ]


def run():
    VAR.mkdir(parents=True, exist_ok=True)
    return on_sqlite_and_postgres(results_for, VAR, PG_URL)


if __name__ == "__main__" and sys.argv[1:2] == ["--measure"]:
    measure(sys.argv[2])
