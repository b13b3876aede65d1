"""A full or read-only file store gives clean answers: the API a JSON 503 (never Django's HTML 500),
the citizen's and the staff's forms keep the report (stored without its photo, the user told), and
no photo file is left without its row."""

import errno

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.cases.models import Case, CasePhoto

from .conftest import jpeg_bytes, point_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_disk(settings, tmp_path, monkeypatch):
    """The media root takes the first file of a photo, then is full (ENOSPC): the worst case, a
    file already written when the store fails."""
    settings.MEDIA_ROOT = tmp_path / "media"
    real_save = FileSystemStorage._save
    calls = []

    def save(self, name, content):
        calls.append(name)
        if len(calls) % 2 == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save)
    return settings.MEDIA_ROOT


def files_under(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def photo(name="p.jpg"):
    return SimpleUploadedFile(name, jpeg_bytes(), "image/jpeg")


@pytest.mark.parametrize("path, who", [("/api/v1/cases/photos", "grid_manager"), ("/api/v1/public/photos", None)])
def test_the_api_answers_a_full_store_with_json_503_and_leaves_no_file(full_disk, api_as, path, who):
    client = api_as(who)
    client.client.raise_request_exception = False
    photos = CasePhoto.objects.count()
    response = client.client.post(path, {"file": photo()}, headers=client.headers)
    assert response.status_code == 503 and response["Content-Type"].startswith("application/json")
    assert response.json()["detail"] and response["Retry-After"]
    assert files_under(full_disk) == [] and CasePhoto.objects.count() == photos


def test_the_citizen_form_keeps_the_report_when_the_photo_cannot_be_stored(full_disk):
    citizen = Client()
    lat, lng = point_in("441900122002001")
    response = citizen.post(
        "/report/",
        {"description": "井盖缺失（照片存不下）", "lat": lat, "lng": lng, "reporter_phone": "13700001234",
         "photo": photo()},
    )  # fmt: skip
    case = Case.objects.get(description="井盖缺失（照片存不下）")
    assert response.status_code == 302 and response["Location"] == f"/track/{case.tracking_number}/"
    assert not CasePhoto.objects.filter(case=case).exists() and files_under(full_disk) == []
    page = citizen.get(response["Location"]).content.decode()
    assert case.tracking_number in page and "照片未能保存" in page


def test_the_staff_form_keeps_the_case_when_the_photo_cannot_be_stored(full_disk, client_as):
    operator = client_as("hotline")
    response = operator.post(
        "/cases/new/",
        {"description": "热线：路灯不亮（照片存不下）", "channel": "hotline", "area_code": "441900122002",
         "severity": "normal", "reporter_phone": "13700001234", "photo": photo()},
    )  # fmt: skip
    case = Case.objects.get(description="热线：路灯不亮（照片存不下）")
    assert response.status_code == 302 and files_under(full_disk) == []
    assert "照片未能保存" in operator.get(response["Location"]).content.decode()
    assert case.channel == "hotline"


def test_an_unhandled_error_in_the_api_answers_json_500(api_as, monkeypatch):
    from wangge.cases import api as cases_api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cases_api, "store_photo", broken)
    client = api_as("grid_manager")
    client.client.raise_request_exception = False
    response = client.client.post("/api/v1/cases/photos", {"file": photo()}, headers=client.headers)
    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert "a bug" not in response.content.decode() and response.json()["detail"]
