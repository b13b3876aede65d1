"""What every benchmark shares: the bench database, the machine line, the result record, running a
database's measurement in a child process, and the city's generated case history."""

import json
import os
import platform
import random
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results.json"
BENCH_REDIS_URL = os.environ.get("WANGGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass
class Result:
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float  # value / baseline_value, so > 1 means more than the baseline
    machine: str = ""

    def as_dict(self):
        return asdict(self)


def machine(database: str | None = None) -> str:
    """The machine line of a result. `database`: the database the result ran on ("SQLite",
    "PostgreSQL"); a benchmark that runs its databases in child processes must name it, since this
    process's DATABASE_URL is not theirs. Without it, this process's own database."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    db = database or ("PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite")
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {db}"


def setup_django(scale="city"):
    """Point Django at var/bench and make sure the demo city of `scale` is built there."""
    os.environ.setdefault("WANGGE_VAR_DIR", str(BENCH_VAR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    wangge = [sys.executable, "-m", "django"]
    subprocess.run([*wangge, "migrate", "-v0"], check=True, cwd=ROOT)
    import django

    django.setup()
    from wangge.areas.models import Area, Level

    if Area.objects.filter(level=Level.GRID).count() < 3000:
        print("building the city-scale demo city in", os.environ["WANGGE_VAR_DIR"], flush=True)
        subprocess.run([*wangge, "demo_data", "--scale", scale], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def postgres_reachable(url: str) -> bool:
    """True when PostgreSQL answers at url's server; creates url's database when it is missing."""
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            name = url.rsplit("/", 1)[1]
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except psycopg.OperationalError:
        return False


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def on_sqlite_and_postgres(measure, var: Path, pg_url: str) -> list[Result]:
    """measure(label, env) with the bench's SQLite under `var` (the embedded default: no server at
    all), then as in production: PostgreSQL at pg_url with Redis carrying the task queue and the live
    events (REDIS_URL), when they are reachable (said when they are not). Each runs in child processes
    with that env."""
    base = {**os.environ, "WANGGE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    base.pop("DATABASE_URL", None)
    base.pop("REDIS_URL", None)
    results = labelled(measure("sqlite", base), "SQLite")
    if not postgres_reachable(pg_url):
        print(f"   PostgreSQL not reachable at {pg_url}: SKIPPED", flush=True)
        return results
    production, database = {**base, "DATABASE_URL": pg_url}, "PostgreSQL"
    if redis_reachable(BENCH_REDIS_URL):
        production["REDIS_URL"], database = BENCH_REDIS_URL, "PostgreSQL + Redis"
    else:
        print(f"   Redis not reachable at {BENCH_REDIS_URL}: PostgreSQL runs with the database queue", flush=True)
    return results + labelled(measure("postgres", production), database)


def labelled(results: list[Result], database: str) -> list[Result]:
    for result in results:
        result.machine = result.machine or machine(database)
    return results


def ensure_city(label: str, env: dict) -> None:
    """Migrate the database of a child env and build the city-scale demo city there when missing."""
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], check=True, cwd=ROOT, env=env)
    check = (
        "import django;django.setup();from wangge.areas.models import Area;"
        "print(Area.objects.filter(level='grid').count())"
    )
    out = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    if int(out.stdout.split()[-1]) < 3000:
        print(f"   [{label}] building the city-scale demo city", flush=True)
        subprocess.run(
            [sys.executable, "-m", "django", "demo_data", "--scale", "city"],
            check=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )


def measure_in_child(module: str, label: str, env: dict) -> dict:
    """Run `python -m <module> --measure <label>` with env; its last line of output is JSON."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--measure", label], cwd=ROOT, env=env, capture_output=True, text=True
    )
    sys.stderr.write(out.stderr)
    out.check_returncode()
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------
# The city's history: ~1,000,000 cases over a year in the city-scale demo city, bulk-inserted with
# raw SQL (executemany), with their assignments; a subclass of CaseHistory adds a richer trail.


class RawTable:
    """INSERTs into a model's table by raw SQL: rows give `columns`; every other NOT NULL column gets
    its field's default (so a new column with a default does not break the generators)."""

    def __init__(self, model, columns: list[str]):
        from django.db import connection

        extra = [f for f in model._meta.concrete_fields if not f.primary_key and not f.null and f.column not in columns]
        defaults = [f.get_default() for f in extra]  # "" for text fields without a default
        missing = [f.column for f, value in zip(extra, defaults, strict=True) if value is None]
        if missing:
            raise ValueError(f"{model._meta.db_table}: give a value for {', '.join(missing)}")
        self.fixed = tuple(f.get_db_prep_save(v, connection) for f, v in zip(extra, defaults, strict=True))
        names = [*columns, *(f.column for f in extra)]
        self.width = len(columns)
        self.sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"

    def insert(self, cursor, rows) -> None:
        if rows:
            assert len(rows[0]) == self.width, (self.sql, rows[0])
            cursor.executemany(self.sql, [(*row, *self.fixed) for row in rows])


@dataclass(slots=True)
class Drawn:
    """One generated case, as drawn (before it becomes rows)."""

    n: int
    grid_id: int
    path: str
    lat: float
    lng: float
    created: object  # datetime
    status: str
    on_site: bool
    overdue: bool
    closed: object  # datetime | None
    dispatched: bool
    satisfaction: int | None
    channel: str
    category_id: int
    department_id: int | None


class CaseHistory:
    """The cases and one assignment per dispatched case (the dashboard's history). A subclass may
    write richer rows: override case_row() and rows_after() (and the column lists)."""

    case_columns = [
        "number", "tracking_number", "channel", "status", "outcome", "outcome_reason", "severity", "description",
        "address", "lat", "lng", "area_id", "area_path", "command_level", "category_id", "reporter_name",
        "reporter_phone_encrypted", "dispatch_deadline", "is_overdue", "handled_on_site", "satisfaction",
        "satisfaction_comment", "version", "created_at", "updated_at", "dispatched_at", "closed_at",
    ]  # fmt: skip
    assignment_columns = [
        "case_id", "department_id", "status", "deadline", "extension_status", "extension_reason", "feedback",
        "return_reason", "created_at", "done_at", "overdue_at",
    ]  # fmt: skip

    def __init__(self, now, days: int):
        from django.db import connection

        from wangge.cases.models import Assignment, Case

        self.now, self.days = now, days
        self.start = now - timedelta(days=days)
        self.dt = connection.ops.adapt_datetimefield_value
        self.cases = RawTable(Case, self.case_columns)
        self.tables = {"assignment": RawTable(Assignment, self.assignment_columns)}

    def case_row(self, d: Drawn) -> tuple:
        dt, created = self.dt, d.created
        return (
            f"B{d.n:09d}", f"B{d.n:011d}"[:12], d.channel, d.status, "fixed" if d.status == "closed" else "", "",
            "normal", "压测案件", "", d.lat, d.lng, d.grid_id, d.path, "village", d.category_id, "", "",
            dt(created + timedelta(hours=4)), d.overdue, d.on_site, d.satisfaction, "", 3, dt(created),
            dt(d.closed or created), dt(created + timedelta(hours=1)) if d.dispatched else None, dt(d.closed),
        )  # fmt: skip

    def rows_after(self, d: Drawn, case_id: int) -> dict[str, list[tuple]]:
        """The rows that follow the case (by table key of self.tables)."""
        if not d.dispatched:
            return {}
        dt, created, done = self.dt, d.created, d.status in ("verifying", "closed")
        return {"assignment": [(
            case_id, d.department_id, "done" if done else "accepted", dt(created + timedelta(hours=49)), "", "",
            "已处理" if done else "", "", dt(created), dt(d.closed or created + timedelta(hours=30)) if done else None,
            dt(created + timedelta(hours=49)) if d.overdue else None,
        )]}  # fmt: skip


def draw_case(rng, n, now, start, days, grids, categories, weights, departments, channels) -> Drawn:
    grid_id, path, lat, lng = rng.choice(grids)
    created = start + timedelta(seconds=rng.random() * days * 86400)
    age_days = (now - created).days
    r = rng.random()
    if age_days > 14:
        status = "closed" if r < 0.9 else "rejected" if r < 0.95 else "merged" if r < 0.98 else "handling"
    else:
        status = ["reported", "registered", "handling", "verifying", "closed", "closed"][int(r * 6)]
    on_site = status == "closed" and rng.random() < 0.12
    overdue = rng.random() < 0.08
    closed = created + timedelta(hours=rng.uniform(1, 96)) if status in ("closed", "rejected", "merged") else None
    dispatched = status in ("handling", "verifying") or (status == "closed" and not on_site)
    satisfaction = rng.choice([3, 4, 4, 5, 5, 5, 2, 1]) if status == "closed" and rng.random() < 0.4 else None
    channel = rng.choice(channels)
    lat, lng = lat + rng.uniform(-0.002, 0.002), lng + rng.uniform(-0.002, 0.002)
    category = rng.choices(categories, weights)[0]
    department = rng.choice(departments) if dispatched else None
    return Drawn(
        n, grid_id, path, lat, lng, created, status, on_site, overdue, closed, dispatched, satisfaction, channel,
        category, department,
    )  # fmt: skip


def generate_cases(count: int, log, history=CaseHistory, days: int = 365) -> bool:
    """Bulk-insert cases until the database holds `count` (False when it already did): spread over
    the last `days` in the city's grids, a few categories dominating; older ones mostly closed."""
    from django.db import connection, transaction
    from django.utils import timezone

    from wangge.accounts.models import Department
    from wangge.areas.models import Area, Level
    from wangge.cases.models import Case, Category

    have = Case.objects.count()
    if have >= count:
        log(f"{have:,} cases already there")
        return False
    rng = random.Random(6)
    grids = list(Area.objects.filter(level=Level.GRID).values_list("id", "path", "centroid_lat", "centroid_lng"))
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).values_list("id", flat=True))
    categories = rng.sample(categories, min(60, len(categories)))
    weights = [1 / (i + 1) for i in range(len(categories))]  # a few categories dominate, as in life
    departments = list(Department.objects.values_list("id", flat=True))
    channels = ["grid_manager"] * 6 + ["hotline"] * 3 + ["citizen_web"] * 2 + ["api", "sensor"]
    now = timezone.now()
    writer = history(now, days)
    batch = 20_000
    made = have
    while made < count:
        drawn = [
            draw_case(rng, made + i, now, writer.start, days, grids, categories, weights, departments, channels)
            for i in range(min(batch, count - made))
        ]
        rows = [writer.case_row(d) for d in drawn]
        with transaction.atomic(), connection.cursor() as cursor:
            writer.cases.insert(cursor, rows)
            # the ids the database gave (a sequence may skip values: never assume them)
            numbers = "SELECT number, id FROM cases_case WHERE number >= %s AND number <= %s"
            cursor.execute(numbers, [rows[0][0], rows[-1][0]])
            ids = dict(cursor.fetchall())
            after: dict[str, list[tuple]] = {}
            for d, row in zip(drawn, rows, strict=True):
                for key, more in writer.rows_after(d, ids[row[0]]).items():
                    after.setdefault(key, []).extend(more)
            for key, table in writer.tables.items():
                table.insert(cursor, after.get(key, []))
        made += len(rows)
        log(f"{made:,} cases")
    ids = Case.objects.order_by("pk").values_list("pk", flat=True)
    assert ids.first() >= 1 and Case.objects.count() == made
    return True
