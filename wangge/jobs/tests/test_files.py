"""Job files at rest: no ID number or phone in clear under JOBS_ROOT (uploads, rejected rows,
exports, the preview on the job row); the owner downloads the rejected rows decrypted, nobody else."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wangge.accounts.models import User
from wangge.jobs.models import Job, State
from wangge.registry.tests.conftest import new_building
from wangge.registry.validators import id_check_char

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

GRID_A = "441900122002001"


def make_id(seq):
    first17 = f"44190019900517{seq:03d}"
    return first17 + id_check_char(first17)


GOOD, BAD = make_id(11), make_id(12)[:-1] + ("0" if make_id(12)[-1] != "0" else "1")
PHONE = "13811112222"


@pytest.fixture
def clear_tmp(settings, tmp_path):
    settings.JOBS_CLEAR_TMP = str(tmp_path / "clear")
    Path(settings.JOBS_CLEAR_TMP).mkdir()
    return Path(settings.JOBS_CLEAR_TMP)


def all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def upload(client, rows, partial=True):
    building = new_building(User.objects.get(username="admin"), GRID_A)
    header = ["姓名", "人员类型", "身份证号", "手机号", "建筑编码", "房号"]
    body = [[name, "户籍", number, PHONE, building.code, "101"] for name, number in rows]
    data = {"file": SimpleUploadedFile("people.csv", csv_bytes([header, *body]))}
    if partial:
        data["partial"] = "on"
    response = client.post(reverse("jobs:import", args=["people"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Job.objects.latest("pk")


def test_upload_and_rejected_rows_are_encrypted_and_the_owner_gets_them_back(client_as, settings, clear_tmp):
    client = client_as("grid_manager")
    checked = upload(client, [("甲", GOOD), ("乙", BAD)])
    assert checked.state == State.DONE and checked.result["rejected_rows"] == 1
    folder = Path(checked.input_file.path).parent  # the job's folder under the storage's root
    stored = all_bytes(folder)
    assert stored and GOOD.encode() not in stored and BAD.encode() not in stored and PHONE.encode() not in stored
    assert "甲".encode() not in stored  # names too: the whole file is encrypted
    assert GOOD not in json.dumps(checked.result) and PHONE not in json.dumps(checked.result)  # the preview
    assert list(clear_tmp.iterdir()) == []  # the run's clear copies are gone

    response = client.get(reverse("jobs:download", args=[checked.pk, "errors"]))
    assert response.status_code == 200
    rejected = b"".join(response.streaming_content).decode("utf-8-sig")
    assert BAD in rejected and "错误" in rejected and GOOD not in rejected
    original = b"".join(client.get(reverse("jobs:download", args=[checked.pk, "input"])).streaming_content)
    assert GOOD.encode() in original and BAD.encode() in original

    # Staff who may see the job page still do not get the owner's upload or rejected rows.
    admin = client_as("admin")
    assert admin.get(reverse("jobs:detail", args=[checked.pk])).status_code == 200
    for which in ("errors", "input"):
        assert admin.get(reverse("jobs:download", args=[checked.pk, which])).status_code == 404

    # Confirmed: the real import reads the same encrypted file.
    client.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "1"})
    job = Job.objects.latest("pk")
    assert job.state == State.DONE and job.result["written"] == 1
    stored = all_bytes(Path(job.input_file.path).parent)
    assert stored and GOOD.encode() not in stored and BAD.encode() not in stored
    assert list(clear_tmp.iterdir()) == []


def test_export_files_of_the_worker_are_encrypted(
    client_as, settings, clear_tmp, huey_immediate, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 0
    client = client_as("grid_manager")
    upload(client, [("甲", GOOD)], partial=False)
    client.post(reverse("jobs:confirm", args=[Job.objects.latest("pk").pk]), {"partial": "0"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("jobs:export", args=["people"]), {"format": "csv"})
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and job.state == State.DONE and job.result_file
    assert "甲".encode() not in Path(job.result_file.path).read_bytes()
    exported = b"".join(client.get(reverse("jobs:download", args=[job.pk, "result"])).streaming_content)
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert any(r["姓名"] == "甲" for r in rows) and GOOD not in exported.decode("utf-8-sig")


def test_a_file_cut_short_or_altered_does_not_decrypt(tmp_path):
    from wangge.jobs import files

    path = tmp_path / "f.enc"
    data = bytes(range(256)) * 9000  # more than two chunks
    files.write_encrypted([data], path)
    assert b"".join(files.read_decrypted(path)) == data
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(files.CorruptFile):
        b"".join(files.read_decrypted(path))
    path.write_bytes(raw[:-5] + bytes(5))
    with pytest.raises(files.CorruptFile):
        b"".join(files.read_decrypted(path))
