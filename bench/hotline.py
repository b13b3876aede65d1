"""The hotline desk's caller lookup: a caller's earlier cases by phone number, with 1,000,000 cases
and 500,000 callers (every case a caller's, about two each; 5% of the cases also have a caller
linked at the desk, hotline.CaseCaller). Measured: hotline.lookup.caller_history as the desk runs it
for the city's operator (the ids by the two indexed keyed hashes, in the operator's scope, newest 20;
the rows; the last public note of each), without the access log's INSERT. Baseline: the same indexed
lookup in plain SQL on the same connection (both hashes, newest 20 rows).

BENCH_SCALE (default 1) scales both counts: BENCH_SCALE=0.01 → 10,000 cases and 5,000 callers. The
database is its own (var/bench/hotline-<cases>), built once per size."""

import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from .common import BENCH_VAR, ROOT, Result

CASES, CALLERS, LINKED_SHARE, QUERIES = 1_000_000, 500_000, 0.05, 400
BATCH = 20_000


def p95(values):
    return statistics.quantiles(values, n=20)[-1] * 1000


def phone(i: int) -> str:
    return f"139{i:08d}"


def setup(cases: int):
    os.environ.setdefault("WANGGE_VAR_DIR", str(BENCH_VAR / f"hotline-{cases}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    django = [sys.executable, "-m", "django"]
    subprocess.run([*django, "migrate", "-v0"], check=True, cwd=ROOT)
    import django as dj

    dj.setup()
    from wangge.accounts.models import User

    if not User.objects.filter(username="hotline").exists():
        print("   building the demo city in", os.environ["WANGGE_VAR_DIR"], flush=True)
        subprocess.run([*django, "demo_data"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def fill(cases: int, callers: int, rng: random.Random):
    """Cases in bulk (not through intake: a million reports would take hours), the columns the
    lookup reads filled as intake fills them."""
    from django.db import transaction
    from django.utils import timezone

    from wangge.areas.models import Area, Level
    from wangge.cases.models import Case, Channel, Status
    from wangge.core import pii
    from wangge.hotline.models import CaseCaller

    have = Case.objects.exclude(reporter_phone_hash="").count()
    if have >= cases:
        return
    print(f"   filling {cases - have:,} cases for {callers:,} callers", flush=True)
    hashes = [pii.phone_hash(phone(i)) for i in range(callers)]
    grids = list(Area.objects.filter(level=Level.GRID).values_list("pk", "path"))
    secret = pii.encrypt("13900000000")  # the same ciphertext everywhere: the lookup never decrypts
    statuses = [Status.CLOSED] * 6 + [Status.HANDLING, Status.REPORTED, Status.REGISTERED, Status.VERIFYING]
    now = timezone.now()
    made = have
    while made < cases:
        batch, links = [], []
        for n in range(made, min(made + BATCH, cases)):
            area_id, path = rng.choice(grids)
            caller = rng.randrange(callers)
            batch.append(
                Case(
                    number=f"H{n:010d}", tracking_number=f"T{n:010d}", channel=Channel.HOTLINE,
                    status=rng.choice(statuses), description="路灯不亮", area_id=area_id, area_path=path,
                    command_level="village", reporter_name="张三", reporter_phone_encrypted=secret,
                    reporter_phone_hash=hashes[caller], created_at=now - timedelta(minutes=n), updated_at=now,
                )
            )  # fmt: skip
            if rng.random() < LINKED_SHARE:
                links.append(rng.randrange(callers))
        with transaction.atomic():
            created = Case.objects.bulk_create(batch)
            CaseCaller.objects.bulk_create(
                [
                    CaseCaller(case_id=c.pk, phone_encrypted=secret, phone_hash=hashes[i])
                    for c, i in zip(rng.sample(created, len(links)), links, strict=True)
                ]
            )
        made += len(batch)
        print(f"   {made:,}", flush=True)


def run():
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    cases, callers = max(int(CASES * scale), 1000), max(int(CALLERS * scale), 500)
    setup(cases)
    from django.db import connection

    from wangge.accounts.models import User
    from wangge.cases.models import Case
    from wangge.core import pii
    from wangge.hotline import lookup
    from wangge.hotline.models import CaseCaller

    rng = random.Random(16)
    fill(cases, callers, rng)
    user = User.objects.get(username="hotline")
    asked = [phone(rng.randrange(callers)) for _ in range(QUERIES)]
    case_t, link_t = Case._meta.db_table, CaseCaller._meta.db_table
    sql = (
        f"SELECT id, number, status, description, created_at FROM {case_t} WHERE id IN ("  # noqa: S608
        f"SELECT id FROM {case_t} WHERE reporter_phone_hash = %s"
        f" UNION SELECT case_id FROM {link_t} WHERE phone_hash = %s) ORDER BY created_at DESC, id DESC LIMIT 20"
    )

    def ours(number):
        return len(lookup.caller_history(user, number, log=False))

    def raw(number):
        digest = pii.phone_hash(number)
        with connection.cursor() as cursor:
            cursor.execute(sql, [digest, digest])
            return len(cursor.fetchall())

    ours(asked[0]), raw(asked[0])  # warm the connection and the caches
    mine, base, found = [], [], 0
    for number in asked:
        t = time.perf_counter()
        found += ours(number)
        mine.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw(number)
        base.append(time.perf_counter() - t)
    print(f"   {cases:,} cases, {callers:,} callers: {found / len(asked):.1f} cases per caller found", flush=True)
    ours_p95, base_p95 = p95(mine), p95(base)
    size = f"{cases // 1000}k cases"
    return [
        Result(
            f"hotline.caller_lookup_p95 ({size})", ours_p95, "ms", "plain SQL, same indexed lookup", base_p95,
            ours_p95 / base_p95,
        )
    ]  # fmt: skip
