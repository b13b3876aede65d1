"""Anti-abuse on the public entries: per-client rate limits (429 + Retry-After, a page in Chinese or
JSON), the configurable human-check hook, and unattached uploads deleted after a day."""

import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from wangge.cases.models import Case, CasePhoto
from wangge.cases.photos import delete_unattached, store_photo
from wangge.core import ratelimit

from .conftest import jpeg_bytes, point_in

pytestmark = pytest.mark.django_db


def fake_captcha(request, token):
    """The hook a deployment would point at its CAPTCHA service; here: "human" passes."""
    return token == "human"


def report_form(n=0):
    lat, lng = point_in("441900122002001")
    return {"description": f"路灯不亮 {n}", "lat": lat, "lng": lng, "reporter_phone": "13700001234"}


def test_the_report_page_limits_each_client_with_a_page_in_chinese(settings):
    settings.RATE_LIMITS = {"public_report": (2, 600)}
    citizen = Client(REMOTE_ADDR="203.0.113.5")
    assert [citizen.post("/report/", report_form(n)).status_code for n in range(2)] == [302, 302]
    refused = citizen.post("/report/", report_form(3))
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    page = refused.content.decode()
    assert "请求过于频繁" in page and "秒后再试" in page and "Too many" not in page
    assert not Case.objects.filter(description="路灯不亮 3").exists()
    assert citizen.get("/report/").status_code == 200  # reading the page is not limited
    # Another client is not held back by this one.
    assert Client(REMOTE_ADDR="203.0.113.6").post("/report/", report_form(4)).status_code == 302


def test_the_public_api_and_photo_upload_answer_429_in_json(settings):
    settings.RATE_LIMITS = {"public_api": (1, 600), "photo_upload": (1, 60)}
    client = Client(REMOTE_ADDR="203.0.113.7")
    body = {**report_form(), "description": "API反映"}
    assert client.post("/api/v1/public/cases", body, content_type="application/json").status_code == 201
    refused = client.post("/api/v1/public/cases", body, content_type="application/json")
    assert refused.status_code == 429 and refused["Content-Type"].startswith("application/json")
    assert refused.json()["retry_after"] == int(refused["Retry-After"]) and refused.json()["detail"]
    upload = lambda: client.post(  # noqa: E731
        "/api/v1/public/photos", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")}
    )
    assert upload().status_code == 201
    assert upload().status_code == 429
    assert CasePhoto.objects.count() == 1  # the refused upload stored nothing


def test_the_window_ends(settings, monkeypatch):
    settings.RATE_LIMITS = {"public_api": (1, 60)}
    clock = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    assert ratelimit.hit("public_api", "a") is None
    assert ratelimit.hit("public_api", "a") == 20  # the window ends at 1,000,020
    clock[0] += 20
    assert ratelimit.hit("public_api", "a") is None


def test_no_captcha_by_default_and_the_hook_when_configured(settings):
    citizen = Client()
    assert citizen.post("/report/", report_form(1)).status_code == 302
    settings.CAPTCHA_VERIFIER = "wangge.cases.tests.test_public_abuse.fake_captcha"
    refused = citizen.post("/report/", report_form(2))
    assert refused.status_code == 200 and "人机验证未通过" in refused.content.decode()
    assert not Case.objects.filter(description="路灯不亮 2").exists()
    assert citizen.post("/report/", {**report_form(3), "captcha_token": "human"}).status_code == 302
    api = citizen.post("/api/v1/public/cases", report_form(4), content_type="application/json")
    assert api.status_code == 400 and "captcha_token" in api.json()["errors"]
    api = citizen.post(
        "/api/v1/public/cases", report_form(5), content_type="application/json", headers={"X-Captcha-Token": "human"}
    )
    assert api.status_code == 201


def test_unattached_photos_are_deleted_after_a_day_with_their_files(new_case):
    def upload():
        return store_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"))

    old, fresh, used = upload(), upload(), upload()
    case = new_case()
    CasePhoto.objects.filter(pk=used.pk).update(case=case)
    two_days_ago = timezone.now() - timedelta(days=2)
    CasePhoto.objects.filter(pk__in=[old.pk, used.pk]).update(created_at=two_days_ago)
    files = [old.image.path, old.thumbnail.path]
    assert all(os.path.exists(f) for f in files)

    from wangge.cases.tasks import delete_unattached_photos

    assert delete_unattached_photos.call_local() == 1
    assert set(CasePhoto.objects.values_list("pk", flat=True)) == {fresh.pk, used.pk}
    assert not any(os.path.exists(f) for f in files)
    assert os.path.exists(used.image.path) and os.path.exists(fresh.image.path)
    assert delete_unattached(timezone.now()) == 1  # the fresh one, when its day is over


def test_tracking_numbers_cannot_be_guessed_by_trying(settings, new_case):
    settings.RATE_LIMITS = {"public_track": (3, 600), "public_evaluate": (1, 600)}
    case = new_case()
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    answers = [guesser.get(f"/track/{n}/").status_code for n in ("AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC")]
    assert answers == [404, 404, 404]
    refused = guesser.get(f"/track/{case.tracking_number}/")  # even a right number, once over the limit
    assert refused.status_code == 429 and "请求过于频繁" in refused.content.decode()
    api = guesser.get(f"/api/v1/public/cases/{case.tracking_number}")
    assert api.status_code == 429 and api.json()["retry_after"] > 0
    # The citizen who holds the number, from another address, follows it as before.
    owner = Client(REMOTE_ADDR="203.0.113.10")
    assert owner.get(f"/track/{case.tracking_number}/").status_code == 200
    rate = {"satisfaction": 5, "comment": ""}
    assert owner.post(
        f"/api/v1/public/cases/{case.tracking_number}/evaluate", rate, content_type="application/json"
    ).status_code in (200, 400)
    again = owner.post(f"/api/v1/public/cases/{case.tracking_number}/evaluate", rate, content_type="application/json")
    assert again.status_code == 429


def test_a_citizen_account_cannot_flood_reports(settings, client_as):
    settings.RATE_LIMITS = {"portal_report": (1, 3600)}
    citizen = client_as("citizen")
    form = {**report_form(7), "idempotency_key": "k1"}
    first = citizen.post("/me/report/", form)
    assert first.status_code == 302, first.content.decode()[:300]
    second = citizen.post("/me/report/", {**report_form(8), "idempotency_key": "k2"})
    assert second.status_code == 429 and "请求过于频繁" in second.content.decode()
    assert not Case.objects.filter(description="路灯不亮 8").exists()
