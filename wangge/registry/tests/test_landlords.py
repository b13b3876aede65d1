"""Landlords: their own rental houses (page and API) with compliance and what is missing, and the
tenants they declare (tenancy source landlord), only for their own houses; room editing."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from wangge.accounts.models import Membership, Role, User
from wangge.notify.models import Notification
from wangge.registry import actions
from wangge.registry.models import Person, Room, Tenancy, TenantDeclaration
from wangge.registry.validators import id_check_char

from .conftest import GRID_A, ID_A, ID_B

pytestmark = pytest.mark.django_db


def put(api, path, data):
    return api.client.put(path, data, content_type="application/json", headers=api.headers)


@pytest.fixture
def rental(admin, make_building):
    """A rental house of the demo user `landlord`: rooms 101 and 102, 101 occupied, nobody declared."""
    building = make_building(GRID_A)
    rental = actions.save_rental(admin, {"building": building.code, "landlord_user": "landlord"})
    Room.objects.filter(building=building, number="101").update(is_occupied=True)
    return rental


@pytest.fixture
def other_landlord(db):
    user = User.objects.create_user("landlord2", password="wangge-demo")
    Membership.objects.create(user=user, role=Role.LANDLORD)
    return user


def test_a_landlord_sees_their_rentals_with_compliance_and_what_is_missing(client_as, rental):
    client = client_as("landlord")
    page = client.get(reverse("registry:my_rentals")).content.decode()
    assert rental.building.name in page and "101" in page  # room 101's tenants are missing
    assert reverse("registry:my_rentals") in client.get("/").content.decode()  # the portal's menu and home
    detail = client.get(reverse("registry:my_rental", args=[rental.pk]))
    assert detail.status_code == 200 and 'name="id_number"' in detail.content.decode()
    # Staff pages stay closed to a landlord (the portal's users reach the portal's pages only).
    assert client.get(reverse("registry:rental_detail", args=[rental.pk])).status_code == 403
    assert client.get(reverse("registry:index")).status_code == 403


def test_a_landlord_declares_a_tenant_and_the_score_goes_up(client_as, api_as, rental):
    room = Room.objects.get(building=rental.building, number="101")
    api = api_as("landlord")
    before = api.get("/api/v1/registry/my-rentals").json()
    assert [r["id"] for r in before] == [rental.pk]
    assert any("101" in m for m in before[0]["missing"])
    client = client_as("landlord")
    response = client.post(
        reverse("registry:my_rental_tenant", args=[rental.pk]),
        {"room": room.pk, "name": "租客甲", "person_type": "floating", "id_number": ID_A, "moved_in": "2026-03-01"},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    # A new tenant waits for the grid staff like anyone else (the answer never tells who is registered).
    declaration = TenantDeclaration.objects.get(declared_name="租客甲", status="pending")
    assert not Tenancy.objects.filter(person__name="租客甲").exists()
    confirmed = api_as("grid_manager").post(f"/api/v1/registry/declarations/{declaration.pk}/review",
                                            {"decision": "confirm"})  # fmt: skip
    assert confirmed.status_code == 200, confirmed.json()
    tenancy = Tenancy.objects.get(person__name="租客甲")
    assert tenancy.source == "landlord" and tenancy.room == room and tenancy.moved_out is None
    person = tenancy.person
    assert person.residence == room and person.area == rental.building.area and person.id_number == ID_A
    after = api.get(f"/api/v1/registry/my-rentals/{rental.pk}").json()
    assert not any("101" in m for m in after["missing"]) and after["compliance_score"] > before[0]["compliance_score"]
    assert [t["name"] for t in after["tenants"]] == ["租客甲"] and "*" in after["tenants"][0]["id_number"]


def test_declaring_someone_registered_elsewhere_waits_for_the_grid_staff(api_as, client_as, rental, make_person):
    """租户申报 → 网格员核实: the person does not move and the landlord learns nothing about them until
    the grid staff of the rental's area confirm; the grid manager is told, the landlord told back."""
    person = make_person(ID_B, name="老住户")  # registered in another building of the grid
    old = person.tenancies.get()
    room = Room.objects.get(building=rental.building, number="102")
    landlord = api_as("landlord")
    response = landlord.post(
        f"/api/v1/registry/my-rentals/{rental.pk}/tenants",
        {"room": room.pk, "name": "老 住户", "person_type": "registered", "id_number": ID_B},
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["name"] == "老 住户" and "老住户" not in response.content.decode()
    old.refresh_from_db()
    assert old.moved_out is None and Person.objects.get(pk=person.pk).residence == old.room
    # Declared twice while it waits: still one declaration.
    again = landlord.post(
        f"/api/v1/registry/my-rentals/{rental.pk}/tenants",
        {"room": room.pk, "name": "老 住户", "person_type": "registered", "id_number": ID_B},
    )
    assert again.json()["id"] == body["id"] and TenantDeclaration.objects.count() == 1
    mine = landlord.get(f"/api/v1/registry/my-rentals/{rental.pk}").json()
    assert [d["id"] for d in mine["declarations"]] == [body["id"]] and mine["tenants"] == []
    # The grid manager of the rental's grid is told, sees it (masked number, no registered name)...
    grid = User.objects.get(username="grid_manager")
    assert Notification.objects.filter(recipient=grid, url__endswith=f"/rentals/{rental.pk}/").exists()
    staff = api_as("grid_manager")
    [listed] = staff.get("/api/v1/registry/declarations").json()["items"]
    assert listed["declared_name"] == "老 住户" and listed["name_matches"] and "*" in listed["id_number"]
    page = client_as("grid_manager").get(reverse("registry:rental_detail", args=[rental.pk])).content.decode()
    assert reverse("registry:declaration_review", args=[rental.pk, body["id"]]) in page
    # ... staff elsewhere do not, and cannot answer it.
    assert api_as("grid_manager2").get("/api/v1/registry/declarations").json()["items"] == []
    assert api_as("grid_manager2").post(f"/api/v1/registry/declarations/{body['id']}/review",
                                        {"decision": "confirm"}).status_code == 404  # fmt: skip
    assert api_as("landlord").post(f"/api/v1/registry/declarations/{body['id']}/review",
                                   {"decision": "confirm"}).status_code in (403, 404)  # fmt: skip
    # Confirmed on the page: the person moves in, their stay elsewhere ends that day.
    client = client_as("grid_manager")
    review_url = reverse("registry:declaration_review", args=[rental.pk, body["id"]])
    response = client.post(review_url, {"decision": "confirm"})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.moved_out is not None and Person.objects.get(pk=person.pk).residence == room
    assert TenantDeclaration.objects.get().status == "confirmed"
    landlord_user = User.objects.get(username="landlord")
    assert Notification.objects.filter(recipient=landlord_user, url__endswith=f"/my-rentals/{rental.pk}/").exists()
    assert (
        api_as("grid_manager")
        .post(f"/api/v1/registry/declarations/{body['id']}/review", {"decision": "reject"})
        .status_code
        == 400
    )  # answered already
    after = landlord.get(f"/api/v1/registry/my-rentals/{rental.pk}").json()
    assert [t["name"] for t in after["tenants"]] == ["老住户"] and after["declarations"] == []


def test_a_rejected_declaration_moves_nobody(api_as, rental, make_person):
    person = make_person(ID_B, name="老住户")
    room = Room.objects.get(building=rental.building, number="102")
    declared = (
        api_as("landlord")
        .post(
            f"/api/v1/registry/my-rentals/{rental.pk}/tenants",
            {"room": room.pk, "name": "冒名", "person_type": "registered", "id_number": ID_B},
        )
        .json()
    )
    listed = api_as("grid_manager").get("/api/v1/registry/declarations").json()["items"]
    assert [d["name_matches"] for d in listed] == [False]
    response = api_as("grid_manager").post(
        f"/api/v1/registry/declarations/{declared['id']}/review", {"decision": "reject", "note": "查无此人"}
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert Person.objects.get(pk=person.pk).residence != room and person.tenancies.get().moved_out is None


def test_the_landlords_own_tenant_moves_between_their_rooms_at_once(api_as, rental):
    room_a = Room.objects.get(building=rental.building, number="101")
    room_b = Room.objects.get(building=rental.building, number="102")
    api = api_as("landlord")
    data = {"name": "租客甲", "person_type": "floating", "id_number": ID_A}
    first = api.post(f"/api/v1/registry/my-rentals/{rental.pk}/tenants", {**data, "room": room_a.pk})
    assert first.status_code == 202
    api_as("grid_manager").post(f"/api/v1/registry/declarations/{first.json()['id']}/review", {"decision": "confirm"})
    response = api.post(f"/api/v1/registry/my-rentals/{rental.pk}/tenants", {**data, "room": room_b.pk})
    assert response.status_code == 201 and response.json()["room"] == room_b.pk
    assert Person.objects.get(name="租客甲").residence == room_b


def test_bad_tenant_input_names_the_field(api_as, rental):
    room = Room.objects.get(building=rental.building, number="101")
    response = api_as("landlord").post(
        f"/api/v1/registry/my-rentals/{rental.pk}/tenants",
        {"room": room.pk, "name": "租客乙", "person_type": "floating", "id_number": ID_A[:-1] + "1"},
    )
    assert response.status_code == 400 and "id_number" in str(response.json())
    assert not Person.objects.filter(name="租客乙").exists()


@pytest.mark.parametrize("who", ["landlord2", "grid_manager", "citizen"])
def test_only_the_rentals_own_landlord_may_see_it_or_declare_tenants(who, client_as, api_as, rental, other_landlord):
    room = Room.objects.get(building=rental.building, number="101")
    client = client_as(who)
    assert client.get(reverse("registry:my_rental", args=[rental.pk])).status_code == 404
    data = {"room": room.pk, "name": "租客丙", "person_type": "floating", "id_number": ID_A}
    assert client.post(reverse("registry:my_rental_tenant", args=[rental.pk]), data).status_code == 404
    api = api_as(who)
    assert api.get(f"/api/v1/registry/my-rentals/{rental.pk}").status_code == 404
    assert api.get("/api/v1/registry/my-rentals").json() == []
    assert api.post(f"/api/v1/registry/my-rentals/{rental.pk}/tenants", data).status_code == 404
    assert not Person.objects.filter(name="租客丙").exists()


def test_a_room_of_another_building_is_refused(admin, rental, make_building):
    elsewhere = make_building(GRID_A, "别的楼").rooms.first()
    landlord = User.objects.get(username="landlord")
    with pytest.raises(ValidationError) as refused:
        actions.declare_tenant(landlord, rental, {"room": elsewhere.pk, "name": "某", "person_type": "floating",
                                                  "id_number": ID_A})  # fmt: skip
    assert "room" in refused.value.message_dict


def test_rooms_are_edited_on_the_building_page_and_in_the_api(client_as, api_as, make_building):
    building = make_building(GRID_A)
    room = building.rooms.get(number="101")
    client = client_as("grid_manager")
    page = client.get(reverse("registry:building_detail", args=[building.pk])).content.decode()
    assert reverse("registry:room_edit", args=[building.pk, room.pk]) in page
    url = reverse("registry:room_edit", args=[building.pk, room.pk])
    response = client.post(url, {"number": "101A", "floor": "2", "version": room.version})
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.number, room.floor, room.version) == ("101A", 2, 2)
    bad = client.post(url, {"number": "102", "version": room.version})  # the other room's number
    assert bad.status_code == 400 and "102" in bad.content.decode()
    api = api_as("grid_manager")
    room_url = f"/api/v1/registry/buildings/{building.pk}/rooms/{room.pk}"
    response = put(api, room_url, {"number": "103", "floor": 3, "version": 1})
    assert response.status_code == 409  # stale
    response = put(api, room_url, {"number": "103", "floor": 3, "version": 2})
    assert response.status_code == 200 and response.json()["number"] == "103"
    assert client_as("grid_manager2").get(url).status_code == 404
    assert put(api_as("leader"), room_url, {"number": "104", "version": 3}).status_code in (403, 404)


def test_a_new_tenant_and_one_registered_elsewhere_get_the_same_answer(api_as, client_as, rental, make_person):
    """Issue 13 item 2: the landlord's answer must not tell whether a number is registered in the city."""
    make_person(ID_B, name="老住户")  # registered in another building
    room = Room.objects.get(building=rental.building, number="102")
    api = api_as("landlord")
    url = f"/api/v1/registry/my-rentals/{rental.pk}/tenants"
    new = api.post(url, {"room": room.pk, "name": "新租客", "person_type": "floating", "id_number": ID_A})
    known = api.post(url, {"room": room.pk, "name": "某人", "person_type": "registered", "id_number": ID_B})
    assert new.status_code == known.status_code == 202
    assert set(new.json()) == set(known.json()) and new.json()["status"] == known.json()["status"] == "pending"
    assert new.json()["message"] == known.json()["message"]
    # The landlord's page tells both alike too.
    client = client_as("landlord")
    answers = []
    fresh = "11010519800101003" + id_check_char("11010519800101003")
    for name, number in (("新租客二", fresh), ("某人二", ID_B)):
        response = client.post(reverse("registry:my_rental_tenant", args=[rental.pk]),
                               {"room": room.pk, "name": name, "person_type": "registered", "id_number": number},
                               follow=True)  # fmt: skip
        answers.append([str(m) for m in response.context["messages"]])
    assert answers[0] == answers[1] and answers[0]
    mine = api.get(f"/api/v1/registry/my-rentals/{rental.pk}").json()
    assert mine["tenants"] == [] and {d["name"] for d in mine["declarations"]} == {"新租客", "某人", "新租客二"}


def test_a_rejected_declaration_of_someone_new_leaves_nobody_in_the_register(api_as, rental):
    """Someone only the landlord's declaration put in the register leaves it when the staff reject it
    (the declaration itself is kept, with the name the landlord typed)."""
    room = Room.objects.get(building=rental.building, number="101")
    before = Person.objects.count()
    declared = api_as("landlord").post(
        f"/api/v1/registry/my-rentals/{rental.pk}/tenants",
        {"room": room.pk, "name": "虚构租客", "person_type": "floating", "id_number": ID_A},
    )
    assert declared.status_code == 202 and Person.objects.count() == before + 1
    staff = api_as("grid_manager")
    answer = staff.post(f"/api/v1/registry/declarations/{declared.json()['id']}/review", {"decision": "reject"})
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"
    assert Person.objects.count() == before and not Person.objects.filter(name="虚构租客").exists()
    kept = TenantDeclaration.objects.get(pk=declared.json()["id"])
    assert kept.person is None and kept.declared_name == "虚构租客"
    listed = staff.get("/api/v1/registry/declarations", status="rejected").json()["items"]
    assert [d["id_number"] for d in listed] == [""]
