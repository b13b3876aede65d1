"""What schemathesis found answering 500, each as a plain test: numbers past a database integer
(paging, ids inside lists, day counts), image bombs on every upload path, dates at the ends of the
calendar, an unknown API path; and the error bodies in the shapes the OpenAPI declares."""

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.accounts.models import User
from wangge.core.apitypes import MAX_DAYS, MAX_ID, MAX_PAGE

TOO_BIG = 2**64  # past a signed 64-bit integer: SQLite raised OverflowError, LIMIT "datatype mismatch"


def png_bomb(width=20000, height=20000) -> bytes:
    """A real PNG of width × height black-and-white pixels: ~50 KB that decode to 400 million."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytes((width // 8 + 1) * height)  # each row: filter byte + packed bits, all zero
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def field_of(response):
    """The fields a 422 names (ninja's validation body: detail = [{loc, msg, type}])."""
    assert response.status_code == 422, response.content
    return {tuple(issue["loc"]) for issue in response.json()["detail"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/areas",
        "/api/v1/cases",
        "/api/v1/notifications",
        "/api/v1/patrol/tasks",
        "/api/v1/patrol/inspections",
        "/api/v1/registry/addresses",
        "/api/v1/registry/buildings",
        "/api/v1/registry/people",
        "/api/v1/registry/rentals",
        "/api/v1/registry/places",
    ],
)
def test_paging_numbers_are_bounded(api_as, path):
    api = api_as("town_dispatcher")
    assert field_of(api.get(path, limit=TOO_BIG)) == {("query", "limit")}
    assert field_of(api.get(path, offset=TOO_BIG)) == {("query", "offset")}
    assert field_of(api.get(path, limit=MAX_PAGE + 1)) == {("query", "limit")}
    assert api.get(path, limit=MAX_PAGE, offset=MAX_ID - MAX_PAGE).json()["items"] == []


@pytest.mark.django_db
def test_ids_in_lists_are_bounded(api_as):
    api = api_as("grid_manager")
    body = {"description": "井盖缺失", "lat": 22.9, "lng": 113.7, "photo_ids": [1, TOO_BIG]}
    assert field_of(api.post("/api/v1/cases", body)) == {("body", "payload", "photo_ids", 1)}
    public = {**body, "reporter_phone": "13800138000", "photo_ids": [0]}
    assert field_of(api_as(None).post("/api/v1/public/cases", public)) == {("body", "payload", "photo_ids", 0)}
    admin = api_as("admin")
    rental = {"building": "none", "rooms": [1, TOO_BIG]}
    assert field_of(admin.post("/api/v1/registry/rentals", rental)) == {("body", "payload", "rooms", 1)}
    person = {"name": "张三", "person_type": "registered", "room": TOO_BIG}
    assert field_of(admin.post("/api/v1/registry/people", person)) == {("body", "payload", "room")}
    assert field_of(api.post("/api/v1/notifications/read", {"ids": [-1]})) == {("body", "payload", "ids", 0)}


@pytest.mark.django_db
def test_day_counts_are_bounded(api_as):
    api = api_as("grid_manager")
    assert field_of(api.get("/api/v1/patrol/tasks", due_within_days=33056147)) == {("query", "due_within_days")}
    assert api.get("/api/v1/patrol/tasks", due_within_days=MAX_DAYS).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("end", ["9999-12-31", "0001-01-01"])
def test_dashboard_dates_at_the_ends_of_the_calendar(api_as, end):
    api = api_as("town_dispatcher")
    for path in ("/api/v1/insight/figures", "/api/v1/insight/heat"):
        response = api.get(path, start=end, end=end)
        assert response.status_code == 200, (path, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("path, who", [("/api/v1/cases/photos", "grid_manager"), ("/api/v1/public/photos", None)])
def test_image_bombs_are_refused_on_api_uploads(api_as, path, who):
    api = api_as(who)
    for size in ((20000, 20000), (8000, 8000)):  # past Pillow's limit; under it but past ours
        upload = SimpleUploadedFile("bomb.png", png_bomb(*size), "image/png")
        response = api.client.post(path, {"file": upload}, headers=api.headers)
        assert response.status_code == 400, response.content
        assert response.json() == {"detail": "invalid input", "errors": {"file": ["照片像素过多。"]}}


@pytest.mark.django_db
def test_image_bomb_on_the_citizen_form_keeps_the_form():
    upload = SimpleUploadedFile("bomb.png", png_bomb(), "image/png")
    response = Client().post("/report/", {"description": "路灯不亮", "reporter_phone": "13800138000", "photo": upload})
    assert response.status_code == 200
    assert "照片像素过多。" in response.content.decode()


@pytest.mark.django_db
def test_unknown_api_path_answers_json(api_as):
    response = api_as("town_dispatcher").get("/api/v1/cases/not-a-number%0A")
    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}
    assert Client().post("/api/v1/no/such/thing").json() == {"detail": "not found"}


@pytest.mark.django_db
def test_nul_characters_are_refused_before_any_view(api_as):
    """PostgreSQL cannot compare or store a NUL in text (500 there); no real input holds one."""
    api = api_as("town_dispatcher")
    response = api.get("/api/v1/registry/people", q="张\x00")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "q"]
    reveal = {"type": "registry.person\x00", "id": 1, "field": "phone", "reason": "核实"}
    response = api.post("/api/v1/privacy/reveal", reveal)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "type"]
    response = api.get("/api/v1/areas/4419%00")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path"]
    assert (
        api.post("/api/v1/privacy/reveal", {**reveal, "type": "registry.person", "reason": "a\\u0000"}).status_code
        == 404
    )
    client = Client()
    client.force_login(User.objects.get(username="town_dispatcher"))
    assert client.get("/registry/people/", {"q": "\x00"}).status_code == 400
    # a file's bytes are not text: a photo (full of NUL bytes) still goes through
    upload = SimpleUploadedFile("p.png", png_bomb(64, 48), "image/png")
    assert api.client.post("/api/v1/cases/photos", {"file": upload}, headers=api.headers).status_code == 201


@pytest.mark.django_db
def test_broken_multipart_upload_answers_json(api_as):
    api = api_as("grid_manager")
    response = api.client.post("/api/v1/cases/photos", b"x", content_type="multipart/form-data", headers=api.headers)
    assert response.status_code == 400 and response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"].startswith("cannot parse the upload")
