import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from wangge.history.models import ChangeRecord
from wangge.patrol.actions import plan_inspections
from wangge.patrol.models import InspectionRule, InspectionTask
from wangge.privacy.models import PersonalDataAccess
from wangge.registry import actions
from wangge.registry.compliance import compliance
from wangge.registry.models import Person, RentalHouse, Tenancy

from .conftest import GRID_A, GRID_B, ID_A, ID_B

# Who sees a person living in GRID_A (village A, Houjie town).
ROLES = [
    ("grid_manager", True),
    ("village_dispatcher", True),
    ("town_dispatcher", True),
    ("city_dispatcher", True),
    ("grid_manager2", False),  # the next village
    ("liaobu_dispatcher", False),  # another town
    ("fire_handler", False),
    ("citizen", False),
]


@pytest.mark.parametrize("username,sees", ROLES)
def test_jurisdiction_per_role_pages_and_api(username, sees, make_person, client_as, api_as):
    person = make_person()
    refused = 403 if username == "citizen" else 404  # the portal's users reach no staff page at all
    page = client_as(username).get(f"/registry/people/{person.pk}/")
    assert page.status_code == (200 if sees else refused)
    api = api_as(username).get(f"/api/v1/registry/people/{person.pk}")
    assert api.status_code == (200 if sees else 404)
    listed = api_as(username).get("/api/v1/registry/people").json()["items"]
    assert (person.pk in [p["id"] for p in listed]) is sees
    building = person.residence.building
    assert client_as(username).get(f"/registry/buildings/{building.pk}/").status_code == (200 if sees else refused)


def test_id_and_phone_are_encrypted_at_rest_and_out_of_change_records(make_person):
    person = make_person()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_person WHERE id = %s", [person.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert ID_A not in row and "13900001111" not in row
    assert "1****************X" in row  # the masked copy for lists
    assert Person.objects.get(pk=person.pk).id_number == ID_A  # decrypts with the key
    records = json.dumps(list(ChangeRecord.objects.values("before", "after")), ensure_ascii=False)
    assert ID_A not in records and "13900001111" not in records and "13812345678" not in records


def test_birth_date_and_sex_come_from_the_id_number(make_person):
    person = make_person()
    assert str(person.birth_date) == "1949-12-31" and person.sex == "F"


def test_lists_pages_and_api_show_only_masked_values(make_person, client_as, api_as):
    person = make_person()
    for url in (
        "/registry/people/",
        f"/registry/people/{person.pk}/",
        f"/registry/buildings/{person.residence.building_id}/",
    ):
        html = client_as("village_dispatcher").get(url).content.decode()
        assert ID_A not in html and "13900001111" not in html
        assert "1****************X" in html
    data = api_as("village_dispatcher").get(f"/api/v1/registry/people/{person.pk}").json()
    assert data["id_number"] == "1****************X" and data["phone"] == "139****1111"
    found = api_as("village_dispatcher").post("/api/v1/registry/people/search", {"value": ID_A}).json()["items"]
    assert [p["id"] for p in found] == [person.pk]  # found by keyed hash (a POST: see privacy/tests)
    phone = api_as("village_dispatcher").post("/api/v1/registry/people/search", {"value": "13900001111"})
    assert phone.json()["count"] == 1


def test_reveal_logs_a_row_and_returns_the_clear_value(make_person, client_as, user):
    person = make_person()
    client = client_as("grid_manager")
    response = client.post(
        "/privacy/reveal/", {"type": "registry.person", "id": person.pk, "field": "id_number", "reason": "入户核查"}
    )
    assert response.status_code == 200 and ID_A in response.content.decode()
    log = PersonalDataAccess.objects.get()
    assert (log.user_name, log.field, log.reason, log.object_id) == (
        "grid_manager",
        "id_number",
        "入户核查",
        str(person.pk),
    )
    assert log.ip == "127.0.0.1"
    with pytest.raises(PermissionError):
        PersonalDataAccess.objects.all().delete()


def test_reveal_needs_a_reason(make_person, client_as):
    person = make_person()
    response = client_as("grid_manager").post(
        "/privacy/reveal/", {"type": "registry.person", "id": person.pk, "field": "id_number", "reason": " "}
    )
    assert response.status_code == 400 and ID_A not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_reveal_refused_without_permission_or_outside_jurisdiction(make_person, client_as, user, api_as):
    person = make_person()
    # The leader sees the town's registers but has no permission to reveal.
    assert client_as("leader").get(f"/registry/people/{person.pk}/").status_code == 200
    response = client_as("leader").post(
        "/privacy/reveal/", {"type": "registry.person", "id": person.pk, "field": "id_number", "reason": "看看"}
    )
    assert response.status_code == 403 and ID_A not in response.content.decode()
    # Outside the jurisdiction: the object is not there at all.
    response = client_as("grid_manager2").post(
        "/privacy/reveal/", {"type": "registry.person", "id": person.pk, "field": "id_number", "reason": "看看"}
    )
    assert response.status_code == 404
    from django.core.exceptions import PermissionDenied

    from wangge.privacy.actions import reveal

    with pytest.raises(PermissionDenied):
        reveal(user("grid_manager2"), person, "id_number", "看看")
    assert not PersonalDataAccess.objects.exists()
    api = api_as("village_dispatcher").post(
        "/api/v1/privacy/reveal", {"type": "registry.person", "id": person.pk, "field": "phone", "reason": "联系"}
    )
    assert api.status_code == 200 and api.json()["value"] == "13900001111"
    assert PersonalDataAccess.objects.count() == 1


def test_case_reporter_phone_is_masked_with_a_logged_reveal(client_as, admin):
    from wangge.cases import actions as case_actions

    from .conftest import point_in

    lat, lng = point_in(GRID_A)
    case, _ = case_actions.report_case(
        case_actions.Report(description="路灯坏了", channel="hotline", lat=lat, lng=lng, reporter_phone="13711112222"),
        admin,
    )
    client = client_as("village_dispatcher")
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "13711112222" not in html and "137****2222" in html and 'name="reason"' in html
    response = client.post(
        "/privacy/reveal/", {"type": "cases.case", "id": case.pk, "field": "reporter_phone", "reason": "回访"}
    )
    assert "13711112222" in response.content.decode()
    assert PersonalDataAccess.objects.filter(field="reporter_phone").count() == 1


def test_duplicate_id_is_refused_with_a_link_only_when_visible(make_person, make_building, client_as, api_as):
    existing = make_person()
    count = Person.objects.count()
    room = make_building(GRID_A).rooms.first()
    response = client_as("grid_manager").post(
        "/registry/people/new/", {"name": "李四", "person_type": "registered", "id_number": ID_A, "room": room.pk}
    )
    assert response.status_code == 400
    assert f"/registry/people/{existing.pk}/" in response.content.decode()
    other_room = make_building(GRID_B).rooms.first()
    response = api_as("grid_manager2").post(
        "/api/v1/registry/people",
        {"name": "李四", "person_type": "registered", "id_number": ID_A, "room": other_room.pk},
    )
    assert response.status_code == 400
    assert "其他辖区" in json.dumps(response.json(), ensure_ascii=False)
    assert "existing" not in response.json()
    assert Person.objects.count() == count


def test_invalid_input_names_the_field(make_building, api_as):
    room = make_building().rooms.first()
    count = Person.objects.count()
    response = api_as("grid_manager").post(
        "/api/v1/registry/people",
        {"name": "", "person_type": "registered", "id_number": "110105194912310021", "phone": "123", "room": room.pk},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"name", "id_number", "phone"}
    assert Person.objects.count() == count


def test_overseas_person_by_passport(make_building, api_as):
    room = make_building().rooms.first()
    response = api_as("grid_manager").post(
        "/api/v1/registry/people",
        {
            "name": "John Smith",
            "person_type": "overseas",
            "passport": "E12345678",
            "nationality": "英国",
            "room": room.pk,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["passport"] == "E1****678" and response.json()["id_number"] == ""


def test_new_residence_closes_the_old_one(make_person, make_building, user, api_as):
    person = make_person()
    new_room = make_building(GRID_A, name="新楼").rooms.get(number="102")
    response = api_as("grid_manager").post(
        f"/api/v1/registry/people/{person.pk}/move-in", {"room": new_room.pk, "moved_in": "2030-01-01", "version": 1}
    )
    assert response.status_code == 200, response.json()
    tenancies = list(Tenancy.objects.filter(person=person).order_by("id"))
    assert len(tenancies) == 2
    assert str(tenancies[0].moved_out) == "2030-01-01" and tenancies[1].moved_out is None
    person.refresh_from_db()
    assert person.residence == new_room and person.version == 2
    # The same stale version again: a clear conflict, nothing written.
    again = api_as("grid_manager").post(
        f"/api/v1/registry/people/{person.pk}/move-in", {"room": tenancies[0].room_id, "version": 1}
    )
    assert again.status_code == 409 and again.json()["version"] == 2
    assert Tenancy.objects.filter(person=person).count() == 2


def test_moving_into_another_jurisdiction_moves_the_person_out_of_sight(make_person, make_building, user, client_as):
    person = make_person()
    room_b = make_building(GRID_B).rooms.first()
    actions.move_in(user("town_dispatcher"), person, room_b, version=1)
    assert client_as("grid_manager").get(f"/registry/people/{person.pk}/").status_code == 404
    assert client_as("grid_manager2").get(f"/registry/people/{person.pk}/").status_code == 200


def test_rental_compliance_score_and_missing(make_building, admin, user):
    building = make_building()
    rental = actions.save_rental(admin, {"building": building.code, "landlord_name": "房东甲"})
    result = compliance(rental)
    # registered ✔, basic info ✘ (landlord phone), tenants ✔ (no room occupied), inspection ✔ (none due yet)
    assert result.score == 75 and any("phone" in m or "电话" in m for m in result.missing)
    room = building.rooms.get(number="101")
    actions.save_room(admin, building, {"number": "101", "floor": 1, "is_occupied": True}, room=room)
    rental = actions.save_rental(admin, {"landlord_name": "房东甲", "landlord_phone": "13800138000"}, rental=rental)
    result = compliance(rental)
    assert result.score == 75 and result.missing == [m for m in result.missing if "101" in m]
    actions.register_person(
        user("grid_manager"), {"name": "王五", "person_type": "floating", "id_number": ID_B, "room": room.pk}
    )
    assert compliance(rental).score == 100 and compliance(rental).missing == []
    # The safety inspection counts once it is overdue (field work plans one per rental house).
    plan_inspections(timezone.localdate() - timedelta(days=3))
    InspectionTask.objects.filter(target_key=f"rental:{rental.pk}").update(
        due_date=timezone.localdate() - timedelta(days=3)
    )
    result = compliance(rental)
    overdue_since = (timezone.localdate() - timedelta(days=3)).isoformat()
    assert result.score == 75 and len(result.missing) == 1 and overdue_since in result.missing[0]
    InspectionRule.objects.filter(target_kind="rental").update(is_active=False)
    assert [c.key for c in compliance(rental).checks if not c.applies] == ["inspection"]


def test_qr_plate_anonymous_gets_only_registered(make_person, client):
    building = make_person().residence.building
    response = client.get(f"/q/{building.qr_token}/")
    html = response.content.decode()
    assert response.status_code == 200 and 'class="registered"' in html
    assert building.name not in html and "张三" not in html and building.address.full_text not in html
    unknown = client.get("/q/nosuchplate/").content.decode()
    assert "not-registered" in unknown


def test_qr_plate_opens_the_building_for_its_staff_only(make_person, client_as, api_as):
    building = make_person().residence.building
    response = client_as("grid_manager").get(f"/q/{building.qr_token}/")
    assert response.status_code == 302 and response.url == f"/registry/buildings/{building.pk}/"
    other = client_as("grid_manager2").get(f"/q/{building.qr_token}/")
    assert other.status_code == 200 and building.name not in other.content.decode()
    data = api_as("grid_manager").get(f"/api/v1/registry/buildings/by-qr/{building.qr_token}").json()
    assert data["code"] == building.code and data["rooms"][0]["residents"][0]["id_number"] == "1****************X"
    assert api_as("grid_manager2").get(f"/api/v1/registry/buildings/by-qr/{building.qr_token}").status_code == 404
    svg = client_as("grid_manager").get(f"/registry/buildings/{building.pk}/plate.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    sheet = client_as("grid_manager").get(f"/registry/plates/{GRID_A}.png")
    assert sheet["Content-Type"] == "image/png" and sheet.content[:4] == b"\x89PNG"


def test_address_search_by_any_part_and_by_nearness(make_building, api_as):
    address = make_building().address
    api = api_as("grid_manager")
    for q in ("莞太", "12号", "１２号", "太路1"):
        codes = [a["code"] for a in api.get("/api/v1/registry/addresses", q=q).json()["items"]]
        assert address.code in codes, q
    near = api.get("/api/v1/registry/addresses", lat=address.lat, lng=address.lng + 0.001, radius=200).json()["items"]
    assert near[0]["code"] == address.code and 90 < near[0]["distance_m"] < 110
    far = api.get("/api/v1/registry/addresses", lat=address.lat, lng=address.lng + 0.01, radius=200).json()["items"]
    assert address.code not in [a["code"] for a in far]
    assert api_as("grid_manager2").get("/api/v1/registry/addresses", q="莞太").json()["count"] == 0


def test_address_outside_jurisdiction_or_city_is_refused(api_as):
    from .conftest import point_in

    lat, lng = point_in(GRID_B)
    response = api_as("grid_manager").post("/api/v1/registry/addresses", {"road": "某路", "lat": lat, "lng": lng})
    assert response.status_code == 400 and "lat" in response.json()["errors"]
    response = api_as("grid_manager").post("/api/v1/registry/addresses", {"road": "某路", "lat": 39.9, "lng": 116.4})
    assert response.status_code == 400


def test_leader_reads_but_cannot_write(make_building, client_as, api_as):
    building = make_building()
    assert client_as("leader").get(f"/registry/buildings/{building.pk}/").status_code == 200
    response = api_as("leader").post(f"/api/v1/registry/buildings/{building.pk}/rooms", {"number": "201", "floor": 2})
    assert response.status_code == 403


def test_place_with_credit_code_and_history(make_building, api_as, client_as):
    building = make_building()
    api = api_as("grid_manager")
    api.put = lambda path, data: api.client.put(path, data, content_type="application/json", headers=api.headers)
    bad = api.post("/api/v1/registry/places", {"name": "小卖部", "place_type": "small_shop", "credit_code": "914403001922038217",  # noqa: E501
                                                "address": building.address.code})  # fmt: skip
    assert bad.status_code == 400 and "credit_code" in bad.json()["errors"]
    ok = api.post("/api/v1/registry/places", {"name": "小卖部", "place_type": "small_shop", "credit_code": "914403001922038216",  # noqa: E501
                                               "address": building.address.code, "building": building.code,
                                               "contact_phone": "13512345678", "risk_tags": ["fire_risk"]})  # fmt: skip
    assert ok.status_code == 201 and ok.json()["three_small"] and ok.json()["contact_phone"] == "135****5678"
    pk = ok.json()["id"]
    updated = api.put(f"/api/v1/registry/places/{pk}", {"name": "小卖部二", "place_type": "small_shop",
                                                      "address": building.address.code, "licence_status": "valid",
                                                      "version": 1})  # fmt: skip
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = api.put(f"/api/v1/registry/places/{pk}", {"name": "x", "place_type": "small_shop",
                                                    "address": building.address.code, "version": 1})  # fmt: skip
    assert stale.status_code == 409
    page = client_as("grid_manager").get(f"/registry/places/{pk}/").content.decode()
    assert "小卖部二" in page and "13512345678" not in page


def test_register_person_in_a_room_through_the_page(make_building, client_as):
    room = make_building().rooms.get(number="102")
    client = client_as("grid_manager")
    form = client.get(f"/registry/people/new/?room={room.pk}")
    assert form.status_code == 200
    response = client.post(
        "/registry/people/new/",
        {"name": "赵六", "person_type": "floating", "id_number": ID_B, "phone": "13600001234", "room": room.pk,
         "tags": ["elderly_alone"]},
    )  # fmt: skip
    assert response.status_code == 302
    person = Person.objects.get(name="赵六")
    assert person.residence == room and person.tags.filter(code="elderly_alone").exists()


def test_demo_registers_are_valid_and_masked(db):
    from wangge.registry.demo import seed_registers
    from wangge.registry.models import Building, RentalHouse

    seed_registers("test", log=lambda line: None)
    assert Building.objects.count() == 6 and Person.objects.count() > 10 and RentalHouse.objects.exists()
    for person in Person.objects.all():
        assert person.id_number_masked and person.id_number != person.id_number_masked


def test_tampered_version_on_an_edit_form_is_a_400(make_building, client_as):
    building = make_building()
    client = client_as("grid_manager")
    response = client.post(f"/registry/buildings/{building.pk}/edit/", {"name": "改名", "version": "abc"})
    assert response.status_code == 400
    building.refresh_from_db()
    assert building.name != "改名"


def test_rental_lists_read_compliance_once_per_page(make_building, admin, client_as, api_as):
    """The compliance of a list of rental houses costs the same queries for 2 rows as for 6."""
    from django.test.utils import CaptureQueriesContext

    def queries_for(count):
        while RentalHouse.objects.count() < count:
            building = make_building(name=f"出租楼{RentalHouse.objects.count()}")
            actions.save_rental(admin, {"building": building.code, "landlord_name": "房东甲"})
        page, api = client_as("village_dispatcher"), api_as("village_dispatcher")
        api.get("/api/v1/me")  # the token looked up (and the per-process token cache checked) before counting
        page.get("/registry/rentals/")  # per-process caches (the map's city extent) filled before counting
        with CaptureQueriesContext(connection) as on_page:
            assert page.get("/registry/rentals/").status_code == 200
        with CaptureQueriesContext(connection) as on_api:
            assert len(api.get("/api/v1/registry/rentals").json()["items"]) == count
        return len(on_page), len(on_api)

    assert queries_for(2) == queries_for(6)


def test_incomplete_rentals_filter_covers_the_whole_list(make_building, admin, client_as):
    """The 'not fully compliant' filter looks at every rental house, not only the current page."""
    from wangge.registry import views

    building = make_building(name="缺电话楼")
    actions.save_rental(admin, {"building": building.code, "landlord_name": "乙"})  # no phone: incomplete
    for n in range(views.PER_PAGE + 1):  # then more than a page of compliant houses, listed before it
        building = make_building(name=f"合规楼{n}")
        actions.save_rental(admin, {"building": building.code, "landlord_name": "甲", "landlord_phone": "13800138000"})
    page = client_as("village_dispatcher").get("/registry/rentals/?incomplete=1").content.decode()
    assert "缺电话楼" in page and "合规楼0" not in page
