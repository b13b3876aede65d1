"""Landlords: their own rental houses (page and API) with compliance and what is missing, and the
tenants they declare (tenancy source landlord), only for their own houses; room editing."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from wangge.accounts.models import Membership, Role, User
from wangge.registry import actions
from wangge.registry.models import Person, Room, Tenancy

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
    assert client.get(reverse("registry:index")).content.decode().count(reverse("registry:my_rentals")) == 1
    detail = client.get(reverse("registry:my_rental", args=[rental.pk]))
    assert detail.status_code == 200 and 'name="id_number"' in detail.content.decode()
    # Staff pages stay closed to a landlord: no area jurisdiction.
    assert client.get(reverse("registry:rental_detail", args=[rental.pk])).status_code == 404


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
    tenancy = Tenancy.objects.get(person__name="租客甲")
    assert tenancy.source == "landlord" and tenancy.room == room and tenancy.moved_out is None
    person = tenancy.person
    assert person.residence == room and person.area == rental.building.area and person.id_number == ID_A
    after = api.get(f"/api/v1/registry/my-rentals/{rental.pk}").json()
    assert not any("101" in m for m in after["missing"]) and after["compliance_score"] > before[0]["compliance_score"]
    assert [t["name"] for t in after["tenants"]] == ["租客甲"] and "*" in after["tenants"][0]["id_number"]


def test_declaring_someone_already_registered_moves_them_in(api_as, rental, make_person):
    person = make_person(ID_B, name="老住户")
    old = person.tenancies.get()
    room = Room.objects.get(building=rental.building, number="102")
    response = api_as("landlord").post(
        f"/api/v1/registry/my-rentals/{rental.pk}/tenants",
        {"room": room.pk, "name": "老住户", "person_type": "registered", "id_number": ID_B},
    )
    assert response.status_code == 201, response.json()
    old.refresh_from_db()
    assert old.moved_out is not None and Person.objects.filter(name="老住户").count() == 1
    assert Person.objects.get(pk=person.pk).residence == room


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
