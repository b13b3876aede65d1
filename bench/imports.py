"""Bulk import through the tabular framework (parse, check, write through the register's action
with change records, one transaction), 10,000-row CSV files, against a raw Django bulk_create of
the same rows in the same run:

- departments: the bulk action accounts.actions.save_departments (bulk insert + bulk change records);
- standard addresses: registry.actions.save_address per row (locate, jurisdiction, code check,
  insert, change record), as every register import does; the raw baseline locates the points with
  the vectorised locate_many and bulk-inserts.

Each run is rolled back afterwards, so the bench database stays as it was."""

import csv
import random
import tempfile
import time
from pathlib import Path

from .common import Result, setup_django

ROWS = 10_000


class _Undo(Exception):
    pass


def timed(fn):
    """Run fn() in a transaction that is rolled back; the seconds it took."""
    from django.db import transaction

    start = time.perf_counter()
    try:
        with transaction.atomic():
            result = fn()
            elapsed = time.perf_counter() - start
            raise _Undo
    except _Undo:
        pass
    return elapsed, result


def write_csv(path: Path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def departments(tmp: Path, admin):
    from wangge.accounts.models import Department
    from wangge.accounts.transfer import DepartmentImport
    from wangge.areas.models import Area
    from wangge.core.tabular import run_import

    spec = DepartmentImport()
    path = tmp / "departments.csv"
    write_csv(path, spec.headers(), [[f"bench{i:06d}", f"压测部门{i}", "441900", "市", "是"] for i in range(ROWS)])

    def framework():
        outcome = run_import(spec, path, admin)
        assert outcome.written == ROWS and not outcome.error_count, outcome.errors[:3]
        return outcome

    def raw():
        city = Area.objects.get(code="441900")
        with open(path, encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            objs = [Department(code=r[0], name=r[1], area=city, level="city", is_active=True) for r in reader]
        Department.objects.bulk_create(objs, batch_size=500)
        return len(objs)

    framework_s, _ = timed(framework)
    raw_s, n = timed(raw)
    assert n == ROWS
    dry_s, _ = timed(lambda: run_import(spec, path, admin, dry_run=True))
    return framework_s, raw_s, dry_s


def addresses(tmp: Path, admin):
    from shapely.geometry import shape

    from wangge.areas.locate import locate_many
    from wangge.areas.models import Area, Level
    from wangge.core.tabular import run_import
    from wangge.registry.models import StandardAddress
    from wangge.registry.transfer import AddressImport
    from wangge.registry.validators import search_text

    rng = random.Random(7)
    grids = list(Area.objects.filter(level=Level.GRID, path__startswith="441900/441900122/").exclude(boundary=None))
    rows = []
    for i in range(ROWS):
        grid = rng.choice(grids)
        geom = shape(grid.boundary)
        p = geom.representative_point()
        lat, lng = round(p.y + rng.uniform(-1e-5, 1e-5), 7), round(p.x + rng.uniform(-1e-5, 1e-5), 7)
        rows.append([f"BENCH{i:06d}", "厚街镇", "", "压测路", f"{i}号", "", "", "", "", lat, lng])
    spec = AddressImport()
    path = tmp / "addresses.csv"
    write_csv(path, spec.headers(), rows)

    def framework():
        outcome = run_import(spec, path, admin)
        assert outcome.written == ROWS and not outcome.error_count, outcome.errors[:3]
        return outcome

    def raw():
        with open(path, encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            data = list(reader)
        ids = [found.id for found in locate_many([float(r[9]) for r in data], [float(r[10]) for r in data])]
        areas = Area.objects.in_bulk(set(ids))
        objs = []
        for r, area_id in zip(data, ids, strict=True):
            area = areas[area_id]
            full = "".join(r[1:8])
            objs.append(
                StandardAddress(
                    code=r[0],
                    town=r[1],
                    road=r[3],
                    number=r[4],
                    full_text=full,
                    search_text=search_text(full, r[0]),
                    lat=float(r[9]),
                    lng=float(r[10]),
                    area=area,
                    area_path=area.path,
                )  # fmt: skip
            )
        StandardAddress.objects.bulk_create(objs, batch_size=500)
        return len(objs)

    framework_s, _ = timed(framework)
    raw_s, n = timed(raw)
    assert n == ROWS
    return framework_s, raw_s


def run():
    setup_django()
    from wangge.accounts.models import User
    from wangge.history.context import change_context

    admin = User.objects.get(username="admin")
    results = []
    with tempfile.TemporaryDirectory() as tmp, change_context("command"):
        tmp = Path(tmp)
        framework_s, raw_s, dry_s = departments(tmp, admin)
        print(f"   departments: import {ROWS / framework_s:,.0f} rows/s, dry run {ROWS / dry_s:,.0f} rows/s, "
              f"raw bulk_create {ROWS / raw_s:,.0f} rows/s", flush=True)  # fmt: skip
        results.append(
            Result(
                "imports.departments_rows_per_second",
                ROWS / framework_s,
                "rows/s",
                "raw bulk_create of the same rows",
                ROWS / raw_s,
                raw_s / framework_s,
            )  # fmt: skip
        )
        results.append(
            Result(
                "imports.departments_dry_run_rows_per_second",
                ROWS / dry_s,
                "rows/s",
                "raw bulk_create of the same rows",
                ROWS / raw_s,
                raw_s / dry_s,
            )  # fmt: skip
        )
        framework_s, raw_s = addresses(tmp, admin)
        print(f"   addresses: import {ROWS / framework_s:,.0f} rows/s, raw locate_many + bulk_create "
              f"{ROWS / raw_s:,.0f} rows/s", flush=True)  # fmt: skip
        results.append(
            Result(
                "imports.addresses_rows_per_second",
                ROWS / framework_s,
                "rows/s",
                "raw locate_many + bulk_create of the same rows",
                ROWS / raw_s,
                raw_s / framework_s,
            )  # fmt: skip
        )
    return results
