"""Imports through the pages: dry run (preview and every row error), all or nothing, valid rows
only with the rejected rows as a file, GBK, the XLSX template round trip, the background path."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wangge.accounts.actions import add_membership, create_user
from wangge.accounts.models import Department, Role
from wangge.areas.models import Area
from wangge.history.models import ChangeRecord
from wangge.jobs.models import Job, State

from .conftest import HEADER, csv_bytes, department_rows

pytestmark = pytest.mark.django_db


def upload(client, content, name="departments.csv", partial=False):
    data = {"file": SimpleUploadedFile(name, content)}
    if partial:
        data["partial"] = "on"
    return client.post(reverse("jobs:import", args=["departments"]), data)


def check_then_import(client, content, name="departments.csv", partial=False):
    response = upload(client, content, name, partial)
    assert response.status_code == 302, response.content.decode()[:2000]
    checked = Job.objects.latest("pk")
    assert checked.dry_run and checked.state == State.DONE
    return checked


def test_good_file_is_checked_then_imported_with_history(client_as):
    admin = client_as("admin")
    content = csv_bytes([HEADER, *department_rows(3)])
    checked = check_then_import(admin, content)
    page = admin.get(reverse("jobs:detail", args=[checked.pk]))
    body = page.content.decode()
    assert "导入部门1" in body and 'id="confirm-import"' in body  # the preview, and the button
    assert not Department.objects.filter(code__startswith="imp").exists()  # a dry run writes nothing

    response = admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    assert job.state == State.DONE and not job.dry_run and job.result["counts"] == {"created": 3}
    assert job.done == job.total == 3
    made = Department.objects.get(code="imp00001")
    assert made.name == "导入部门1" and made.area.code == "441900" and made.level == "city" and made.is_active
    records = ChangeRecord.objects.filter(object_id=str(made.pk), object_repr="导入部门1")
    assert records.count() == 1 and records[0].user_name == "admin" and records[0].after["code"] == "imp00001"
    # Confirming the same check again imports nothing twice.
    again = admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    assert again.status_code == 302 and Job.objects.count() == 2


def test_bad_file_lists_every_bad_row_and_writes_nothing(client_as):
    admin = client_as("admin")
    rows = department_rows(6)
    rows[1][2] = "999999"  # line 3: unknown area
    rows[3][0] = ""  # line 5: missing code
    rows[3][3] = "省"  # line 5: and a bad level
    rows[4][0] = rows[0][0]  # line 6: duplicate of line 2
    rows[5][4] = "也许"  # line 7: not yes/no
    checked = check_then_import(admin, csv_bytes([HEADER, *rows]))
    errors = {(e["line"], e["column"]) for e in checked.result["errors"]}
    assert errors == {(3, "所属区域代码"), (5, "部门代码"), (5, "层级"), (6, "部门代码"), (7, "启用")}
    reasons = {(e["line"], e["column"]): e["reason"] for e in checked.result["errors"]}
    assert "999999" in reasons[(3, "所属区域代码")] and "2" in reasons[(6, "部门代码")]
    body = admin.get(reverse("jobs:detail", args=[checked.pk])).content.decode()
    assert 'id="row-errors"' in body and "confirm-import" not in body and 'id="confirm-partial"' in body

    # Run for real, all or nothing: refused, nothing written, the bad rows downloadable.
    admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    job = Job.objects.latest("pk")
    assert job.state == State.FAILED and job.result["written"] == 0 and job.result["error_count"] == 5
    assert not Department.objects.filter(code__startswith="imp").exists()
    assert not ChangeRecord.objects.filter(object_repr__startswith="导入部门").exists()
    download = admin.get(reverse("jobs:download", args=[job.pk, "errors"]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join([*HEADER, "错误"]) and len(text.splitlines()) == 5


def test_valid_rows_option_imports_the_good_rows_and_returns_the_rejected(client_as):
    admin = client_as("admin")
    rows = department_rows(5)
    rows[2][2] = "nope"
    checked = check_then_import(admin, csv_bytes([HEADER, *rows]), partial=True)
    admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "1"})
    job = Job.objects.latest("pk")
    assert job.state == State.DONE and job.result["written"] == 4 and job.result["rejected_rows"] == 1
    assert set(Department.objects.filter(code__startswith="imp").values_list("code", flat=True)) == {
        "imp00000",
        "imp00001",
        "imp00003",
        "imp00004",
    }
    rejected = b"".join(admin.get(reverse("jobs:download", args=[job.pk, "errors"])).streaming_content)
    lines = rejected.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("imp00002,导入部门2,nope,") and "第4行" in lines[1]

    # The rejected file, fixed, imports as it is (its error column is ignored).
    fixed = rejected.replace(b",nope,", b",441900,")
    checked = check_then_import(admin, fixed)
    assert checked.result["error_count"] == 0 and checked.result["valid"] == 1


def test_gbk_csv_is_detected(client_as):
    admin = client_as("admin")
    checked = check_then_import(admin, csv_bytes([HEADER, *department_rows(2)], encoding="gbk"))
    assert checked.result["error_count"] == 0
    assert checked.result["preview"][0]["values"][1] == "导入部门0"


def test_wrong_headers_and_empty_files_are_refused_clearly(client_as):
    admin = client_as("admin")
    checked = check_then_import(admin, csv_bytes([["编号", "部门名称"], ["x", "y"]]))
    reasons = " ".join(e["column"] + e["reason"] for e in checked.result["errors"])
    assert "编号" in reasons and "所属区域代码" in reasons and "部门代码" in reasons
    response = upload(admin, b"")
    assert response.status_code == 400 and "upload-error" in response.content.decode()
    response = upload(admin, b"PK\x03\x04 not really", name="x.xlsx")
    assert response.status_code == 400 and "XLSX" in response.content.decode()
    response = upload(admin, b"a,b", name="x.pdf")
    assert response.status_code == 400


def test_xlsx_template_round_trip(client_as):
    admin = client_as("admin")
    response = admin.get(reverse("jobs:template", args=["departments", "xlsx"]))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["数据"]
    assert [c.value for c in sheet[1]] == HEADER
    notes = book["说明"]
    assert any(row[0] == "部门代码" and row[4] == "fire" for row in notes.iter_rows(values_only=True))
    for row, values in enumerate(
        [["imp_x", "导入部门X", "441900122", "镇", "否"], ["imp_y", "导入部门Y", "441900"]], 2
    ):
        for column, value in enumerate(values, 1):
            sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    checked = check_then_import(admin, out.getvalue(), name="departments.xlsx")
    assert checked.result["error_count"] == 0 and checked.result["total"] == 2, checked.result["errors"]
    admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    x = Department.objects.get(code="imp_x")
    assert (x.level, x.is_active, x.area.code) == ("town", False, "441900122")
    assert Department.objects.get(code="imp_y").level == "city"


def test_existing_codes_are_updated_and_unchanged_rows_leave_no_record(client_as):
    admin = client_as("admin")
    fire = Department.objects.get(code="fire")
    content = csv_bytes([HEADER, ["fire", "消防救援支队（新）", "441900", "市", "是"]])
    checked = check_then_import(admin, content)
    admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    assert Job.objects.latest("pk").result["counts"] == {"updated": 1}
    fire.refresh_from_db()
    assert fire.name == "消防救援支队（新）"
    record = ChangeRecord.objects.filter(object_id=str(fire.pk), action="update").latest("pk")
    assert record.before["name"] == "消防救援支队" and record.after["name"] == "消防救援支队（新）"


def test_import_needs_the_admin_role_and_stays_in_the_jurisdiction(client_as, user):
    assert client_as("town_dispatcher").get(reverse("jobs:import", args=["departments"])).status_code == 403
    assert client_as("admin").get(reverse("jobs:import", args=["departments"])).status_code == 200
    town_admin = create_user("houjie_admin", "x" * 12)
    add_membership(town_admin, Role.ADMIN, area=Area.objects.get(code="441900122"))
    from django.test import Client

    client = Client()
    client.force_login(town_admin)
    rows = [["imp_a", "厚街部门", "441900122", "镇"], ["imp_b", "寮步部门", "441900111", "镇"]]
    checked = check_then_import(client, csv_bytes([HEADER[:4], *rows]))
    assert [(e["line"], e["column"]) for e in checked.result["errors"]] == [(3, "所属区域代码")]
    assert Area.objects.get(code="441900111").name in checked.result["errors"][0]["reason"]


def test_large_file_runs_in_the_background_with_progress(client_as, settings, huey_immediate):
    settings.IMPORT_SYNC_MAX_ROWS = 100
    admin = client_as("admin")
    content = csv_bytes([HEADER, *department_rows(2500)])
    from django.test.utils import CaptureQueriesContext  # noqa: F401

    from wangge.jobs import actions

    seen = []
    original = actions.Progress.__call__

    def spy(self, done, total):
        seen.append((done, total))
        return original(self, done, total)

    actions.Progress.__call__ = spy
    try:
        response = upload(admin, content)
        checked = Job.objects.latest("pk")
        # Queued, not run: the worker takes it after the commit.
        assert response.status_code == 302 and checked.state == State.QUEUED
        body = admin.get(reverse("jobs:detail", args=[checked.pk])).content.decode()
        assert 'hx-trigger="every 1s"' in body
        actions.run(checked.pk)  # what the worker's task does
        checked.refresh_from_db()
        assert checked.state == State.DONE and checked.result["valid"] == 2500
        status = admin.get(reverse("jobs:status", args=[checked.pk]))
        assert status.headers["HX-Refresh"] == "true" and "100%" in status.content.decode()
        admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
        job = Job.objects.latest("pk")
        assert job.state == State.QUEUED  # large: the worker again
        from wangge.jobs.tasks import run_job

        run_job(job.pk)  # huey immediate: runs here
    finally:
        actions.Progress.__call__ = original
    job.refresh_from_db()
    assert job.state == State.DONE and job.done == job.total == 2500 and job.percent == 100
    assert Department.objects.filter(code__startswith="imp").count() == 2500
    assert len(seen) >= 6 and seen[-1] == (2500, 2500)  # progress in batches, ending at 100 %
    assert all(d <= t for d, t in seen)


def test_import_command(tmp_path, capsys):
    from django.core.management import call_command

    call_command("import", "departments", "--template")
    assert capsys.readouterr().out.strip() == ",".join(HEADER)
    bad = tmp_path / "bad.csv"
    rows = department_rows(3)
    rows[1][2] = "999"
    bad.write_bytes(csv_bytes([HEADER, *rows], encoding="gbk"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "departments", str(bad), "--dry-run")
    assert exit_info.value.code == 1 and "bad.csv:3: 所属区域代码" in capsys.readouterr().err
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("import", "departments", str(bad))
    assert not Department.objects.filter(code__startswith="imp").exists()
    with pytest.raises(SystemExit):
        call_command("import", "departments", str(bad), "--partial", "--rejected", str(tmp_path / "rej.csv"))
    assert Department.objects.filter(code__startswith="imp").count() == 2
    assert "imp00001" in (tmp_path / "rej.csv").read_text(encoding="utf-8-sig")
    record = ChangeRecord.objects.filter(object_repr="导入部门0").get()
    assert record.source == "command" and record.user_name == "admin"
