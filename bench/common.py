"""What every benchmark shares: the bench database, the machine line, the result record."""

import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
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
