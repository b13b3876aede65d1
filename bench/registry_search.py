"""Person search among 1,000,000 people (the screening bench's synthetic register), as the people
list page runs it for a city dispatcher: registry.queries.search_people on the user's restricted
queryset, then the page (count + the first 50 rows, as Paginator does). Three kinds of query:

- a full ID number: found by its keyed hash (unique index);
- the start of a name (surname + a character): the name index (a range on SQLite);
- a part from inside a name (two given-name characters): no name starts so, so the names containing
  it, a scan of the register.

Baseline: the same questions in plain SQL on the same connection (the hash, the range, LIKE), with
count and the first 50 rows ordered as the page orders them."""

import random
import statistics
import time
from datetime import date, timedelta

from .common import Result, setup_django
from .screening import GIVEN, SURNAMES, fill_register, person_id

QUERIES = {"id": 200, "prefix": 200, "contains": 40}


def p95(values):
    return statistics.quantiles(values, n=20)[-1] * 1000


def run():
    setup_django()
    from django.core.paginator import Paginator
    from django.db import connection

    from wangge.accounts.models import User
    from wangge.core import pii
    from wangge.registry import queries
    from wangge.registry.models import Person

    rng = random.Random(5)
    fill_register(random.Random(11))
    user = User.objects.get(username="city_dispatcher")
    start = date(1940, 1, 1)
    asked = {
        "id": [person_id(1, start + timedelta(days=rng.randrange(25_000))) for _ in range(QUERIES["id"])],
        "prefix": [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(QUERIES["prefix"])],
        "contains": [rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(QUERIES["contains"])],
    }
    table = Person._meta.db_table
    cols = "id, name, person_type, id_number_masked, birth_date, area_path"
    city = "441900/%"

    def page(q):
        qs = queries.search_people(queries.people(user).prefetch_related("tags"), q)
        found = Paginator(qs, 50).get_page(1)
        return found.paginator.count, len(list(found))

    def raw(kind, q):
        with connection.cursor() as cursor:
            if kind == "id":
                where, params = "id_number_hash = %s", [pii.lookup_hash(q)]
            elif kind == "prefix":
                where, params = "name >= %s AND name < %s", [q, q + "\U0010ffff"]
            else:
                where, params = "name LIKE %s", [f"%{q}%"]
            where += " AND area_path LIKE %s"
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", [*params, city])  # noqa: S608
            count = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT {cols} FROM {table} WHERE {where} ORDER BY name, id LIMIT 50",  # noqa: S608
                [*params, city],
            )
            return count, len(cursor.fetchall())

    results = []
    for kind, questions in asked.items():
        page(questions[0]), raw(kind, questions[0])  # warm the connection and the caches
        ours, base, hits = [], [], 0
        for q in questions:
            t = time.perf_counter()
            count, _rows = page(q)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw_count, _rows = raw(kind, q)
            base.append(time.perf_counter() - t)
            assert count == raw_count, (kind, q, count, raw_count)
            hits += count > 0
        print(f"   {kind}: p50 {statistics.median(ours) * 1000:.1f} ms, p95 {p95(ours):.1f} ms "
              f"(raw SQL p95 {p95(base):.1f} ms); {hits}/{len(questions)} found someone", flush=True)  # fmt: skip
        results.append(
            Result(f"registry_search.{kind}_p95_ms", p95(ours), "ms", "the same question in plain SQL (p95)",
                   p95(base), p95(ours) / p95(base))
        )  # fmt: skip
    return results
