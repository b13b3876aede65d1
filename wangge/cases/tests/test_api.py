"""The cases API: shape, idempotency, error codes, jurisdiction, the public side."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.cases.models import Case

from .conftest import VILLAGE_B_GRID, jpeg_bytes, point_in

pytestmark = pytest.mark.django_db


def body(lat, lng, **extra):
    return {"description": "占道经营", "lat": lat, "lng": lng, **extra}


def test_create_returns_the_case_and_retries_return_the_same_one(api_as):
    api = api_as("grid_manager")
    lat, lng = point_in("441900122002001")
    api.headers["Idempotency-Key"] = "phone-42-0001"
    first = api.post("/api/v1/cases", body(lat, lng, matter_item="street_vendor"))
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "reported" and data["area_code"] == "441900122002001" and data["version"] == 1
    assert data["channel"] == "grid_manager" and data["category"] == "event:0501"
    again = api.post("/api/v1/cases", body(lat, lng, matter_item="street_vendor"))
    assert again.json()["id"] == data["id"]
    assert Case.objects.filter(description="占道经营").count() == 1
    # Another submitter's identical key is a different case.
    other = api_as("hotline")
    other.headers["Idempotency-Key"] = "phone-42-0001"
    assert other.post("/api/v1/cases", body(lat, lng, channel="hotline")).json()["id"] != data["id"]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"description": "", "lat": 22.9, "lng": 113.7}, "description"),
        ({"description": "x", "lat": 22.3, "lng": 114.17}, "lat"),  # Hong Kong: outside the city
        ({"description": "x", "lat": 95, "lng": 113.7}, "lat"),
        ({"description": "x"}, "lat"),
        ({"description": "x", "lat": 22.93, "lng": 113.67, "severity": "huge"}, "severity"),
        ({"description": "x", "lat": 22.93, "lng": 113.67, "category": "event:9999"}, "category"),
        ({"description": "x", "lat": 22.93, "lng": 113.67, "reporter_phone": "12-ab"}, "reporter_phone"),
    ],
)
def test_bad_input_names_the_field(api_as, payload, field):
    response = api_as("grid_manager").post("/api/v1/cases", payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Case.objects.filter(description="x").exists()


def test_transitions_answer_400_403_409(api_as):
    lat, lng = point_in("441900122002001")
    case = api_as("grid_manager").post("/api/v1/cases", body(lat, lng)).json()
    url = f"/api/v1/cases/{case['id']}/transitions"
    dispatcher = api_as("village_dispatcher")
    assert (
        api_as("grid_manager").post(url, {"action": "dispatch", "version": 1, "departments": ["fire"]}).status_code
        == 403
    )
    assert dispatcher.post(url, {"action": "verify_pass", "version": 1}).status_code in (400, 403)
    ok = dispatcher.post(url, {"action": "dispatch", "version": 1, "departments": ["fire"], "note": "请处理"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "handling" and ok.json()["version"] == 2
    assert ok.json()["assignments"][0]["department"] == "fire"
    stale = dispatcher.post(url, {"action": "escalate", "version": 1})
    assert stale.status_code == 409 and stale.json()["version"] == 2
    assert dispatcher.post(url, {"action": "register", "version": 2}).status_code == 400
    assert dispatcher.post(url, {"action": "fly", "version": 2}).status_code == 400
    handler = api_as("fire_handler")
    assert handler.get(f"/api/v1/cases/{case['id']}").json()["allowed_actions"] == ["accept", "return"]
    assert handler.post(url, {"action": "accept", "version": 2}).status_code == 200
    events = dispatcher.get(f"/api/v1/cases/{case['id']}/events").json()
    assert [e["action"] for e in events] == ["report", "dispatch", "accept"]


def test_lists_and_details_stay_in_the_jurisdiction(api_as):
    lat, lng = point_in("441900122002001")
    mine = api_as("grid_manager").post("/api/v1/cases", body(lat, lng)).json()
    lat_b, lng_b = point_in(VILLAGE_B_GRID)
    theirs = api_as("grid_manager2").post("/api/v1/cases", body(lat_b, lng_b)).json()
    village = api_as("village_dispatcher")
    ids = {c["id"] for c in village.get("/api/v1/cases").json()["items"]}
    assert mine["id"] in ids and theirs["id"] not in ids
    assert village.get(f"/api/v1/cases/{theirs['id']}").status_code == 404
    assert (
        village.post(f"/api/v1/cases/{theirs['id']}/transitions", {"action": "register", "version": 1}).status_code
        == 404
    )
    town = {c["id"] for c in api_as("town_dispatcher").get("/api/v1/cases").json()["items"]}
    assert {mine["id"], theirs["id"]} <= town
    assert api_as("liaobu_dispatcher").get(f"/api/v1/cases/{mine['id']}").status_code == 404
    assert api_as("fire_handler").get(f"/api/v1/cases/{mine['id']}").status_code == 404  # not assigned to fire
    filtered = api_as("town_dispatcher").get("/api/v1/cases", area="441900122003", status="reported").json()["items"]
    assert [c["id"] for c in filtered] == [theirs["id"]]
    assert api_as(None).get("/api/v1/cases").status_code == 401


def test_public_report_track_and_rate(api_as):
    anonymous = Client()
    lat, lng = point_in("441900122002001")
    photo = anonymous.post("/api/v1/public/photos", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")})
    assert photo.status_code == 201
    created = anonymous.post(
        "/api/v1/public/cases",
        {
            "description": "消防通道堵塞",
            "lat": lat,
            "lng": lng,
            "reporter_phone": "13912345678",
            "photo_tokens": [photo.json()["token"]],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["tracking_number"]
    view = anonymous.get(f"/api/v1/public/cases/{number}").json()
    assert view["status"] == "reported" and "13912345678" not in str(view)
    case = Case.objects.get(tracking_number=number)
    assert case.photos.count() == 1 and "13912345678" not in case.reporter_phone_encrypted
    detail = api_as("village_dispatcher").get(f"/api/v1/cases/{case.pk}").json()
    assert detail["reporter_phone"] == "139****5678"
    rate = f"/api/v1/public/cases/{number}/evaluate"
    assert anonymous.post(rate, {"satisfaction": 5}, content_type="application/json").status_code == 400  # not closed
    dispatcher = api_as("village_dispatcher")
    dispatcher.post(
        f"/api/v1/cases/{case.pk}/transitions",
        {"action": "close", "version": 1, "outcome": "withdrawn", "note": "已撤回"},
    )
    assert anonymous.post(rate, {"satisfaction": 6}, content_type="application/json").status_code == 400
    rated = anonymous.post(rate, {"satisfaction": 4, "comment": "及时"}, content_type="application/json")
    assert rated.status_code == 200 and rated.json()["satisfaction"] == 4
    assert anonymous.post(rate, {"satisfaction": 1}, content_type="application/json").status_code == 400  # once
    assert anonymous.get("/api/v1/public/cases/NOSUCHCASE").status_code == 404


def test_photos_refuse_non_images_and_big_files(api_as, settings):
    api = api_as("grid_manager")
    not_image = api.client.post(
        "/api/v1/cases/photos",
        {"file": SimpleUploadedFile("a.jpg", b"not an image", "image/jpeg")},
        headers=api.headers,
    )
    assert not_image.status_code == 400 and "file" in not_image.json()["errors"]
    settings.CASE_PHOTO_MAX_BYTES = 100
    big = api.client.post(
        "/api/v1/cases/photos",
        {"file": SimpleUploadedFile("a.jpg", jpeg_bytes((400, 400)), "image/jpeg")},
        headers=api.headers,
    )
    assert big.status_code == 400


def test_the_list_takes_the_queues_filters(api_as, new_case):
    from wangge.cases.models import Case

    urgent = new_case(reporter="village_dispatcher", channel="api", description="燃气泄漏味道很重", severity="urgent")
    plain = new_case(description="路灯不亮")
    dispatcher = api_as("village_dispatcher")

    def numbers(**params):
        response = dispatcher.get("/api/v1/cases", **params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["items"]}

    assert {urgent.pk, plain.pk} <= numbers()
    assert urgent.pk in numbers(severity="urgent") and plain.pk not in numbers(severity="urgent")
    assert numbers(q="燃气泄漏") == {urgent.pk}
    today = Case.objects.get(pk=plain.pk).created_at.date().isoformat()
    assert plain.pk in numbers(**{"from": today, "to": today})
    assert plain.pk not in numbers(**{"from": "2000-01-01", "to": "2000-01-02"})
    assert dispatcher.get("/api/v1/cases", **{"from": "not a day"}).status_code == 422
    assert {urgent.pk, plain.pk} <= numbers(mine="true")  # at the village dispatcher's own level
