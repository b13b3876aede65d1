"""The bulk address import (actions.AddressBulk / import_addresses, and the addresses ImportSpec
through core.tabular): errors with their lines, duplicates in the file and in the register, points
outside the city or the jurisdiction, generated codes, updates, one summary record per batch."""

import csv

import pytest

from wangge.accounts.models import User
from wangge.areas.models import Area
from wangge.core.imports import ImportRejected
from wangge.core.tabular import SeenValues, run_import
from wangge.history.models import ChangeRecord
from wangge.registry import actions
from wangge.registry.models import StandardAddress
from wangge.registry.transfer import AddressImport

from .conftest import GRID_A, GRID_B, point_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid_manager(db):
    return User.objects.get(username="grid_manager")  # GRID_A only


def rows_at(grid, n, prefix="BULK", start=0):
    lat, lng = point_in(grid)
    return [{"code": f"{prefix}{start + i:04d}", "road": "莞太路", "number": f"{start + i}号", "lat": lat, "lng": lng}
            for i in range(n)]  # fmt: skip


def summaries():
    return ChangeRecord.objects.filter(object_id=actions.IMPORT_BATCH_ID)


def test_all_or_nothing_lists_every_bad_row_with_its_line_and_writes_nothing(grid_manager):
    elsewhere = actions.save_address(User.objects.get(username="admin"), rows_at(GRID_B, 1, "ELSE")[0])
    rows = [
        *rows_at(GRID_A, 3),
        {**rows_at(GRID_B, 1, "OUTJ")[0]},  # line 4: the next village, not this grid manager's
        {"code": "OUTC", "road": "路", "lat": 1.0, "lng": 100.0},  # line 5: outside the city
        {"code": "BULK0001", "road": "路", "lat": rows_at(GRID_A, 1)[0]["lat"], "lng": rows_at(GRID_A, 1)[0]["lng"]},
        {**rows_at(GRID_A, 1, "X")[0], "code": elsewhere.code},  # line 7: a code registered outside the grid
        {"code": "NOPT", "road": "路", "lat": "abc", "lng": 113.6},  # line 8: not a number
        {"code": "LONG", "road": "路" * 81, **{k: rows_at(GRID_A, 1)[0][k] for k in ("lat", "lng")}},  # line 9
        {"code": "EMPTY", **{k: rows_at(GRID_A, 1)[0][k] for k in ("lat", "lng")}},  # line 10: no text at all
    ]
    before = StandardAddress.objects.count()
    with pytest.raises(ImportRejected) as refused:
        actions.import_addresses(grid_manager, rows, file_name="f.csv")
    found = {(e.line, e.field): e.reason for e in refused.value.errors}
    assert set(found) == {(4, "lat"), (5, "lat"), (6, "code"), (7, "code"), (8, "lat"), (9, "road"), (10, "full_text")}
    assert Area.objects.get(code=GRID_B).name in found[(4, "lat")]
    assert StandardAddress.objects.count() == before and not summaries().exists()
    assert StandardAddress.objects.get(pk=elsewhere.pk).road == "莞太路"  # not taken over

    done = actions.import_addresses(grid_manager, rows, file_name="f.csv", partial=True)
    assert done["created"] == 3 and len({e.line for e in done["errors"]}) == 7
    made = StandardAddress.objects.filter(code__startswith="BULK").order_by("code")
    assert [a.code for a in made] == ["BULK0000", "BULK0001", "BULK0002"]
    assert {a.area.code for a in made} == {GRID_A} and made[0].full_text == "莞太路0号"
    assert made[0].search_text == "莞太路0号莞太路0号bulk0000" and made[0].area_path.endswith(f"/{GRID_A}/")
    summary = summaries().get()
    assert summary.user_name == "grid_manager" and summary.after["count"] == 3 and summary.after["file"] == "f.csv"
    assert all(actions.imported_in(a) == summary for a in made)
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(grid_manager)
    page = client.get(reverse("registry:address_detail", args=[made[0].pk])).content.decode()
    assert "f.csv" in page and "grid_manager" in page


def test_a_code_in_the_jurisdiction_updates_that_address_with_its_own_change_record(grid_manager):
    existing = actions.save_address(grid_manager, rows_at(GRID_A, 1, "UPD")[0])
    row = {**rows_at(GRID_A, 1, "UPD")[0], "road": "新路"}
    done = actions.import_addresses(grid_manager, [row, *rows_at(GRID_A, 2, "NEW")])
    assert (done["created"], done["updated"]) == (2, 1)
    existing.refresh_from_db()
    assert existing.road == "新路" and existing.version == 2
    record = ChangeRecord.objects.get(object_type__model="standardaddress", object_id=str(existing.pk), action="update")
    assert record.before["road"] == "莞太路" and record.after["road"] == "新路"


def test_addresses_without_a_code_are_numbered_after_the_leafs_last_code(grid_manager):
    first = actions.save_address(grid_manager, {**rows_at(GRID_A, 1)[0], "code": ""})
    assert first.code == f"{GRID_A}A00001"
    rows = [{**r, "code": ""} for r in rows_at(GRID_A, 3)]
    actions.import_addresses(grid_manager, rows)
    codes = sorted(StandardAddress.objects.filter(code__startswith=f"{GRID_A}A").values_list("code", flat=True))
    assert codes == [f"{GRID_A}A{n:05d}" for n in (1, 2, 3, 4)]


def test_a_user_who_may_not_edit_is_refused(db):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.import_addresses(User.objects.get(username="leader"), rows_at(GRID_A, 1))


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["地址编码", "路街巷", "门牌号", "纬度", "经度"])
        writer.writerows(rows)


def test_the_file_import_finds_duplicates_across_batches_and_writes_one_summary_per_batch(
    grid_manager, tmp_path, monkeypatch
):
    monkeypatch.setattr(AddressImport, "batch_size", 3)
    lat, lng = point_in(GRID_A)
    rows = [[f"F{i}", "莞太路", f"{i}号", lat, lng] for i in range(7)]
    rows.append(["F1", "莞太路", "重复", lat, lng])  # line 9: the code of line 3, two batches earlier
    rows.append(["F9", "莞太路", "外", lat_b := point_in(GRID_B)[0], point_in(GRID_B)[1]])  # line 10
    path = tmp_path / "addresses.csv"
    write_csv(path, rows)
    outcome = run_import(AddressImport(), path, grid_manager)
    assert {(e.line, e.field) for e in outcome.errors} == {(9, "地址编码"), (10, "纬度")}, outcome.errors
    assert "3" in outcome.errors[0].reason and outcome.written == 0 and lat_b
    assert not StandardAddress.objects.filter(code__startswith="F").exists() and not summaries().exists()

    dry = run_import(AddressImport(), path, grid_manager, dry_run=True)
    assert dry.valid == 7 and dry.error_count == 2 and not StandardAddress.objects.filter(code="F0").exists()

    outcome = run_import(AddressImport(), path, grid_manager, partial=True)
    assert outcome.written == 7 and outcome.as_dict()["counts"] == {"created": 7}
    assert StandardAddress.objects.filter(code__startswith="F").count() == 7
    assert sorted(s.after["count"] for s in summaries()) == [1, 3, 3]  # one record per batch of 3
    assert {s.after["file"] for s in summaries()} == {"addresses.csv"}


def test_seen_values_remember_the_first_line_across_merged_runs():
    seen = SeenValues()
    for start in range(0, 100, 10):  # ten batches: runs merge as they grow
        assert seen.check([f"v{i}" for i in range(start, start + 10)], list(range(start, start + 10))) == [None] * 10
    assert len(seen.runs) < 10
    assert seen.check(["v5", "new", "v99", "new"], [200, 201, 202, 203]) == [5, None, 99, 201]
