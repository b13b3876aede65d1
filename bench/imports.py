"""Bulk import through the tabular framework (parse, check, write through the register's action
with change records, one transaction), against a raw insert of the same rows in the same run:

- departments, 10,000 rows: the bulk action accounts.actions.save_departments (bulk insert + bulk
  change records), against a raw Django bulk_create;
- standard addresses, 100,000 and 1,000,000 rows (the CSV is generated here): the bulk action
  registry.actions.AddressBulk (checks in memory, locate_many, one code query and one INSERT per
  batch of 10,000, one summary change record per batch), against a raw executemany of the same
  rows into the same table (sqlite3's own executemany on SQLite); the peak resident memory of the
  import (VmHWM, reset before it) at both sizes shows whether it grows with the file.

Each run is rolled back afterwards, so the bench database stays as it was."""

import csv
import itertools
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


MILLION = 1_000_000


def address_csv(path: Path, n: int, header, seed=7):
    """n standard addresses at points spread over every grid of the city (a grid's inner point plus
    a few metres), written as the import template's CSV; codes unique."""
    import numpy as np
    import shapely
    from shapely.geometry import shape

    from wangge.areas.models import Area, Level

    grids = Area.objects.filter(level=Level.GRID).exclude(boundary=None).values_list("boundary", flat=True)
    inner = shapely.get_coordinates(
        shapely.point_on_surface([shape(b) for b in grids.iterator(chunk_size=500)])
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(inner), n)
    lngs = np.round(inner[pick, 0] + rng.uniform(-1e-5, 1e-5, n), 7)
    lats = np.round(inner[pick, 1] + rng.uniform(-1e-5, 1e-5, n), 7)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for start in range(0, n, 100_000):
            writer.writerows(
                [f"M{i:07d}", "厚街镇", "", "压测路", f"{i}号", "", "", "", "", lats[i], lngs[i]]
                for i in range(start, min(start + 100_000, n))
            )  # fmt: skip


def rss_mb() -> tuple[float, float]:
    """(current, peak since the last reset) resident memory of this process, MB (Linux /proc)."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:  # "5": the peak (VmHWM) starts again from now
        f.write("5")


def addresses(tmp: Path, admin, n: int):
    """The import of n addresses end to end (run_import: read, parse, check, locate, insert, summary
    records, one transaction) against a raw executemany of the same rows into the same table in the
    same run; the peak resident memory of the import; the dry run (checked, nothing written)."""
    from django.db import connection
    from django.utils import timezone

    from wangge.areas.locate import get_index, locate_many
    from wangge.core.tabular import run_import
    from wangge.registry.actions import AddressBulk
    from wangge.registry.models import StandardAddress
    from wangge.registry.transfer import AddressImport

    spec = AddressImport()
    path = tmp / f"addresses-{n}.csv"
    address_csv(path, n, spec.headers())
    get_index().raster()  # built once per process (about 2 s), as a worker's first import would

    def framework():
        outcome = run_import(AddressImport(), path, admin, filename=path.name)
        assert outcome.written == n and not outcome.error_count, outcome.errors[:3]
        return outcome

    fields = ("area_id", "area_path", "version", "created_at", "updated_at", "code", "town", "community", "road",
              "number", "building_no", "unit", "room", "full_text", "search_text", "lat", "lng")  # fmt: skip

    with open(path, encoding="utf-8", newline="") as f:  # the rows' areas as the import finds them
        points = [(float(r[9]), float(r[10])) for r in itertools.islice(csv.reader(f), 1, None)]
    located = locate_many([p[0] for p in points], [p[1] for p in points])
    del points

    def raw():
        """The same rows (with the areas the import gives them) straight into the table: csv.reader,
        one tuple a row, one executemany, with the same page cache as the import."""
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        table = StandardAddress._meta.db_table
        sql = f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        with open(path, encoding="utf-8", newline="") as f, AddressBulk(admin):
            reader = csv.reader(f)
            next(reader)
            rows = (
                (a.id, a.path, 1, stamp, stamp, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                 r[1] + r[3] + r[4], r[1] + r[3] + r[4] + r[0], float(r[9]), float(r[10]))
                for r, a in zip(reader, located, strict=True)
            )  # fmt: skip
            if connection.vendor == "sqlite":
                connection.ensure_connection()
                connection.connection.executemany(sql.replace("%s", "?"), rows)  # the sqlite3 module itself
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(sql, rows)
        return n

    raw_first, _ = timed(raw)  # raw before and after the import: the first run into a fresh WAL pays more
    reset_peak_rss()
    before_mb, _peak = rss_mb()
    framework_s, _ = timed(framework)
    _now, peak_mb = rss_mb()
    raw_then, _ = timed(raw)
    raw_s = (raw_first + raw_then) / 2
    print(f"   raw runs: {raw_first:.1f} s, {raw_then:.1f} s", flush=True)
    dry_s, _ = timed(lambda: run_import(AddressImport(), path, admin, filename=path.name, dry_run=True))
    path.unlink()
    return {"framework_s": framework_s, "raw_s": raw_s, "dry_s": dry_s, "rss_before": before_mb, "rss_peak": peak_mb}


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
        for n in (100_000, MILLION):
            m = addresses(tmp, admin, n)
            rate, raw_rate = n / m["framework_s"], n / m["raw_s"]
            print(f"   addresses ×{n:,}: import {rate:,.0f} rows/s ({m['framework_s']:.1f} s), raw executemany "
                  f"{raw_rate:,.0f} rows/s ({m['raw_s']:.1f} s), ratio {rate / raw_rate:.2f}; dry run "
                  f"{n / m['dry_s']:,.0f} rows/s; RSS {m['rss_before']:.0f} MB before, peak {m['rss_peak']:.0f} MB; "
                  f"6.2M would take {6.2e6 / rate / 60:.1f} min", flush=True)  # fmt: skip
            tag = "1m" if n == MILLION else f"{n // 1000}k"
            results += [
                Result(f"imports.addresses_{tag}_rows_per_second", rate, "rows/s",
                       "raw executemany of the same rows into the same table", raw_rate, rate / raw_rate),
                Result(f"imports.addresses_{tag}_dry_run_rows_per_second", n / m["dry_s"], "rows/s",
                       "raw executemany of the same rows into the same table", raw_rate, (n / m["dry_s"]) / raw_rate),
                Result(f"imports.addresses_{tag}_peak_rss_mb", m["rss_peak"], "MB",
                       "RSS of the process before the import", m["rss_before"], m["rss_peak"] / m["rss_before"]),
            ]  # fmt: skip
        results.append(
            Result("imports.addresses_6_2m_minutes_estimate", 6.2e6 / rate / 60, "min",
                   "the raw executemany at its 1M rate", 6.2e6 / raw_rate / 60, raw_rate / rate)
        )  # fmt: skip
    return results
