"""The database floor of one case intake: the duplicate-check query and the rows an intake writes
(case, first event, dashboard mark, dispatcher's notification, and the live event: a row, or with
Redis an XADD as the intake does) written through the database driver alone, one transaction per
case, on one connection, with no web server, Django or Python of ours in between. The intake bench
runs it on its own database after the HTTP load (`python -m bench.intake_floor` with that env) and
compares: what the web stack costs on top.

Copies of the newest intake's rows, with fresh values in the unique columns."""

import json
import multiprocessing
import sys
import time
import uuid

import django

CASES = 2000
CLIENTS = 8  # as bench/intake.py's
TABLES = ["cases_case", "cases_caseevent", "insight_dirtyday", "insight_liveevent", "notify_notification"]
UNIQUE_TEXT = {"number": 14, "tracking_number": 10, "idempotency_key": 32, "dedupe_key": 32}  # and their lengths


def main():
    """SQLite takes one writer at a time, so one connection is its floor; PostgreSQL commits
    concurrent transactions together, so it gets as many connections (processes) as the bench's
    clients."""
    django.setup()
    from django.db import connection

    processes = 1 if connection.vendor == "sqlite" else CLIENTS
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        cpu = sum(pool.map(write_cases, [CASES // processes] * processes))
    seconds = time.perf_counter() - start
    print(json.dumps({"cases_per_second": CASES / seconds, "cpu_ms_per_case": cpu / CASES * 1000}))


def write_cases(count: int) -> float:
    """Write `count` intakes' rows on a connection of this process; its CPU seconds."""
    from django.db import connection

    from wangge.cases.actions import _DUPLICATE_CANDIDATES_SQL
    from wangge.cases.models import OPEN_STATUSES

    connection.close()  # a forked child: a connection of its own
    connection.ensure_connection()
    raw = connection.connection  # the driver's own connection: sqlite3 or psycopg
    sqlite = connection.vendor == "sqlite"
    mark = "?" if sqlite else "%s"
    # The tables this configuration's intakes wrote to (with Redis, live events are not rows).
    templates = {table: row for table in TABLES if (row := _newest_row(raw, table))}
    live = _redis_stream()
    case = templates["cases_case"]
    duplicate_sql = _DUPLICATE_CANDIDATES_SQL.replace("%s", mark)
    duplicate_params = [case["category_id"], case["lat"] - 0.0005, case["lat"] + 0.0005]
    duplicate_params += [case["lng"] - 0.0005, case["lng"] + 0.0005, case["created_at"], *OPEN_STATUSES, 0]
    if sqlite:
        raw.isolation_level = None  # BEGIN IMMEDIATE ourselves, as the intake's writer does
    else:
        raw.commit()
        raw.autocommit = False

    start_cpu = time.process_time()
    for i in range(count):  # noqa: B007 (i paces the checkpoints)
        if sqlite:
            raw.execute("BEGIN IMMEDIATE")
        cursor = raw.cursor()
        cursor.execute(duplicate_sql, duplicate_params)
        cursor.fetchall()
        case_id = _insert(cursor, mark, "cases_case", case, {})
        for table in list(templates)[1:]:
            _insert(cursor, mark, table, templates[table], {"case_id": case_id})
        raw.commit() if not sqlite else raw.execute("COMMIT")
        if live:
            live(case_id)
        if sqlite and i % 32 == 31:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")  # as the project's SQLite engine does
    return time.process_time() - start_cpu


def _newest_row(raw, table):
    cursor = raw.cursor()
    cursor.execute(f"SELECT * FROM {table} ORDER BY id DESC LIMIT 1")
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None and table == TABLES[0]:
        sys.exit(f"{table} is empty: run the intake load first")
    return row and dict(zip(names, row, strict=True))


def _redis_stream():
    """With REDIS_URL, a callable that adds a new-case-sized live event to a stream of the bench's own."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return None
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    payload = json.dumps({"type": "case.created", "number": "20261201000001", "description": "x" * 60} | {"n": 0})
    return lambda case_id: client.xadd("wangge:bench:floor", {"p": payload}, maxlen=1000, approximate=True)


def _insert(cursor, mark, table, template, overrides):
    values = {k: v for k, v in template.items() if k != "id"}
    for name in values.keys() & UNIQUE_TEXT:
        values[name] = uuid.uuid4().hex[: UNIQUE_TEXT[name]]
    values.update({k: v for k, v in overrides.items() if k in values})
    values = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
    columns = ", ".join(values)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * len(values))}) RETURNING id",
        list(values.values()),
    )
    return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
