"""Exports: the user's jurisdiction only, personal data masked, streamed when small and a
background job (progress, download link, owner only) when large."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from wangge.accounts.models import User
from wangge.areas.models import Area
from wangge.cases import actions as case_actions
from wangge.jobs.models import Job, State

pytestmark = pytest.mark.django_db

VILLAGE_A_GRID = "441900122002001"
VILLAGE_B_GRID = "441900122003001"
PHONE = "13912345678"


def report(grid, description):
    area = Area.objects.get(code=grid)
    case, _created = case_actions.report_case(
        case_actions.Report(
            description=description,
            channel="hotline",
            lat=area.centroid_lat,
            lng=area.centroid_lng,
            reporter_name="张三",
            reporter_phone=PHONE,
        ),
        User.objects.get(username="hotline"),
    )
    return case


@pytest.fixture
def two_cases(db):
    return report(VILLAGE_A_GRID, "甲村的占道经营"), report(VILLAGE_B_GRID, "乙村的暴露垃圾")


def export_csv(client, **params):
    response = client.get(reverse("jobs:export", args=["cases"]), {"format": "csv", **params})
    assert response.status_code == 200, response.status_code
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "username, sees_a, sees_b",
    [
        ("town_dispatcher", True, True),
        ("village_dispatcher", True, False),
        ("grid_manager", True, False),
        ("grid_manager2", False, True),
        ("liaobu_dispatcher", False, False),
        ("fire_handler", False, False),
        ("admin", True, True),
    ],
)
def test_case_export_respects_jurisdiction_and_masks_phones(client_as, two_cases, username, sees_a, sees_b):
    rows = export_csv(client_as(username))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["案件编号", "状态", "紧急程度"] and "上报人电话" in header
    text = "\n".join(",".join(r) for r in body)
    assert ("甲村的占道经营" in text) == sees_a and ("乙村的暴露垃圾" in text) == sees_b
    assert PHONE not in text
    phone_column = header.index("上报人电话")
    for row in body:
        if row[header.index("描述")] in ("甲村的占道经营", "乙村的暴露垃圾"):
            assert row[phone_column] == "139****5678"


def test_case_export_keeps_the_queue_filters_and_xlsx_masks_too(client_as, two_cases):
    client = client_as("town_dispatcher")
    rows = export_csv(client, q="暴露垃圾")
    assert [r[5] for r in rows[1:]] == ["乙村的暴露垃圾"]
    assert export_csv(client, status="closed")[1:] == []
    response = client.get(reverse("jobs:export", args=["cases"]), {"format": "xlsx", "area": "441900122002"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    flat = str(values)
    assert "甲村的占道经营" in flat and "乙村的暴露垃圾" not in flat and PHONE not in flat and "139****5678" in flat
    # The queue page carries the Export button with its current filters.
    page = client.get(reverse("case_queue"), {"q": "垃圾", "status": "open"}).content.decode()
    assert "/exports/cases/?format=xlsx&status=open&q=%E5%9E%83%E5%9C%BE" in page


def test_large_export_is_a_background_job_that_only_its_owner_sees(
    client_as, two_cases, settings, huey_immediate, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    client = client_as("town_dispatcher")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("jobs:export", args=["cases"]), {"format": "xlsx"})
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    assert job.state == State.DONE and job.done == job.total >= 2 and job.percent == 100
    assert job.area_paths == ["441900/441900122/"]
    page = client.get(response.url).content.decode()
    assert 'id="download-result"' in page
    download = client.get(reverse("jobs:download", args=[job.pk, "result"]))
    data = b"".join(download.streaming_content)
    flat = str(list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)))
    assert "乙村的暴露垃圾" in flat and PHONE not in flat
    # Nobody else gets the page or the file (404, as for anything not theirs); staff do.
    for other in ("village_dispatcher", "liaobu_dispatcher"):
        other_client = client_as(other)
        assert other_client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
        assert other_client.get(reverse("jobs:status", args=[job.pk])).status_code == 404
        assert other_client.get(reverse("jobs:download", args=[job.pk, "result"])).status_code == 404
        assert job.pk not in [j.pk for j in other_client.get(reverse("jobs:list")).context["jobs"]]
    citizen = client_as("citizen")  # the portal's users reach no staff page at all
    for name in ("detail", "status"):
        assert citizen.get(reverse(f"jobs:{name}", args=[job.pk])).status_code == 403
    assert citizen.get(reverse("jobs:download", args=[job.pk, "result"])).status_code == 403
    assert client_as("admin").get(reverse("jobs:detail", args=[job.pk])).status_code == 200
    assert client.get(reverse("jobs:download", args=[job.pk, "nothing"])).status_code == 404
    assert job.pk in [j.pk for j in client.get(reverse("jobs:list")).context["jobs"]]
    # The file is not under the public media.
    assert not str(job.result_file.path).startswith(str(settings.MEDIA_ROOT))


def test_department_export_is_for_admins(client_as):
    assert client_as("town_dispatcher").get(reverse("jobs:export", args=["departments"])).status_code == 403
    rows = export_csv_departments(client_as("admin"))
    assert rows[0] == ["部门代码", "部门名称", "所属区域代码", "层级", "启用"]
    assert ["fire", "消防救援支队", "441900", "市", "是"] in rows


def export_csv_departments(client):
    response = client.get(reverse("jobs:export", args=["departments"]), {"format": "csv"})
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_exported_departments_import_back_unchanged(client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin = client_as("admin")
    response = admin.get(reverse("jobs:export", args=["departments"]), {"format": "xlsx"})
    admin.post(reverse("jobs:import", args=["departments"]), {"file": SimpleUploadedFile("d.xlsx", response.content)})
    checked = Job.objects.latest("pk")
    assert checked.result["error_count"] == 0 and checked.result["valid"] >= 10
    admin.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    job = Job.objects.latest("pk")
    assert job.state == State.DONE and job.result["counts"] == {"unchanged": checked.result["valid"]}


def test_exports_never_carry_live_formulas(client_as):
    """A citizen's text that looks like a formula is written as text (CSV injection)."""
    case = report(VILLAGE_A_GRID, '=HYPERLINK("http://evil.example","点我")')
    client = client_as("town_dispatcher")
    rows = export_csv(client, q="HYPERLINK")
    assert [r[5] for r in rows[1:]] == ["'" + case.description]
    response = client.get(reverse("jobs:export", args=["cases"]), {"format": "xlsx", "q": "HYPERLINK"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=6)
    assert cell.value == case.description and cell.data_type == "s"
