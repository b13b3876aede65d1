"""Watch-list screening: 1,000,000 people in the register against a 10,000-entry watch list
(half with ID numbers: exact by keyed hash; half names with birth dates: fuzzy by pinyin), as the
worker's screening job runs it, against a raw SQL join of the ID hashes of the same tables in the
same run (what the exact half alone costs the database).

The synthetic people are bulk-inserted once into the bench database (marked nationality=BENCH);
each screening is rolled back, so its hits do not stay."""

import random
import time
from datetime import date, timedelta

from .common import Result, setup_django

PEOPLE = 1_000_000
ENTRIES = 10_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余叶杜苏魏程吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰志红建国文斌辉婷雪梅海燕鹏飞宇浩然思琪子涵俊欣怡"
HOMOPHONES = {
    "张": "章",
    "王": "汪",
    "李": "黎",
    "刘": "柳",
    "陈": "臣",
    "伟": "玮",
    "芳": "方",
    "静": "靜",
    "军": "君",
}


def person_id(i: int, born: date) -> str:
    from wangge.registry.validators import id_check_char

    first17 = f"441900{born:%Y%m%d}{i:03d}"
    return first17 + id_check_char(first17)


def fill_register(rng):
    from django.db import transaction

    from wangge.areas.models import Area, Level
    from wangge.core import pii
    from wangge.registry.models import Person
    from wangge.registry.validators import name_key

    have = Person.objects.filter(nationality="BENCH").count()
    if have >= PEOPLE:
        return
    print(f"   inserting {PEOPLE - have:,} synthetic people (once)…", flush=True)
    grids = list(Area.objects.filter(level=Level.GRID).values_list("id", "path")[:3000])
    start = date(1940, 1, 1)
    batch = []
    per_day = {}  # birth date → people so far: the sequence number of a valid, unique ID number
    taken = set(Person.objects.exclude(id_number_hash=None).values_list("id_number_hash", flat=True))
    for i in range(have, PEOPLE):
        born = start + timedelta(days=rng.randrange(25_000))
        grid_id, path = grids[i % len(grids)]
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        while True:  # the next sequence number of that day not registered yet (demo people, an earlier fill)
            per_day[born] = seq = per_day.get(born, 0) + 1
            number = person_id(seq, born)
            if pii.lookup_hash(number) not in taken:
                break
        batch.append(
            Person(
                name=name,
                name_key=name_key(name),
                person_type="registered",
                id_number_hash=pii.lookup_hash(number),
                id_number_masked=pii.mask_id_number(number),
                birth_date=born,
                nationality="BENCH",
                area_id=grid_id,
                area_path=path,
            )  # fmt: skip
        )
        if len(batch) == 10_000:
            with transaction.atomic():
                Person.objects.bulk_create(batch, batch_size=1000)
            batch = []
    if batch:
        Person.objects.bulk_create(batch, batch_size=1000)


def watch_list(rng):
    from wangge.watch.actions import name_key
    from wangge.watch.models import WatchEntry, WatchList

    wl, _created = WatchList.objects.get_or_create(name="压测名单")
    wl.entries.all().delete()  # made again each run (cheap), so the run is reproducible
    from wangge.registry.models import Person

    ids = list(Person.objects.filter(nationality="BENCH").values_list("pk", flat=True))
    chosen = rng.sample(ids, ENTRIES)
    rows = Person.objects.filter(pk__in=chosen[: ENTRIES // 2]).values_list("name", "id_number_hash", "birth_date")
    entries = [
        WatchEntry(watch_list=wl, name=n, name_pinyin=name_key(n), id_number_hash=h, birth_date=b) for n, h, b in rows
    ]
    for start in range(ENTRIES // 2, ENTRIES, 500):
        for name, born in Person.objects.filter(pk__in=chosen[start : start + 500]).values_list("name", "birth_date"):
            sounding = "".join(HOMOPHONES.get(c, c) for c in name)
            entries.append(WatchEntry(watch_list=wl, name=sounding, name_pinyin=name_key(sounding), birth_date=born))
    WatchEntry.objects.bulk_create(entries, batch_size=1000)
    return wl


def run():
    setup_django()
    from django.db import connection, transaction

    from wangge.watch.actions import name_key, screen

    rng = random.Random(11)
    fill_register(rng)
    wl = watch_list(rng)
    name_key.cache_clear()

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            start = time.perf_counter()
            counts = screen([wl])
            seconds = time.perf_counter() - start
            raise Undo
    except Undo:
        pass
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM registry_person p JOIN watch_watchentry e ON e.id_number_hash = p.id_number_hash"
            " WHERE e.watch_list_id = %s AND e.id_number_hash != ''",
            [wl.pk],
        )
        raw_exact = cursor.fetchone()[0]
    raw_seconds = time.perf_counter() - start
    print(f"   screening: {seconds:.1f} s ({counts}); raw SQL exact join {raw_seconds:.2f} s", flush=True)
    assert counts["exact"] == raw_exact == ENTRIES // 2, (counts, raw_exact)
    assert counts["fuzzy"] >= ENTRIES // 2, counts  # every homophone entry finds at least its person
    return [
        Result(
            "screening.seconds_1m_people_10k_entries",
            seconds,
            "s",
            "raw SQL join on the ID hash (exact half only)",
            raw_seconds,
            seconds / raw_seconds,
        ),  # fmt: skip
    ]
