"""The register pickers: buildings found by their standard address, rooms as their children,
addresses by any part; only inside the user's register jurisdiction; and moving a person in
still resolves the building and room on the server (another jurisdiction's → a field error)."""

from django.test import Client

from wangge.registry.models import Tenancy

from .conftest import GRID_B, ID_A


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_buildings_by_address_with_rooms_as_children(make_building, client_as):
    building = make_building()
    grid_manager = client_as("grid_manager")
    for q in ("莞太", "１２号", "测试楼", building.code):
        found = results(grid_manager.get("/registry/pick/buildings/", {"q": q, "rooms": "1"}))
        assert [r["value"] for r in found] == [building.code], q
    assert found[0]["children"] and found[0]["hint"] == building.address.full_text
    rooms = results(grid_manager.get("/registry/pick/buildings/", {"parent": building.code, "rooms": "1"}))
    assert [(r["value"], r["label"], r["fill"]) for r in rooms] == [
        (building.code, "101", {"room": "101"}),
        (building.code, "102", {"room": "102"}),
    ]
    assert results(grid_manager.get("/registry/pick/buildings/", {"value": building.code}))[0]["label"] == "测试楼"


def test_register_pickers_are_scoped_per_role(make_building, client_as):
    building = make_building()
    for username in ("grid_manager", "village_dispatcher", "town_dispatcher", "city_dispatcher", "leader"):
        found = results(client_as(username).get("/registry/pick/buildings/", {"q": "莞太"}))
        assert building.code in [r["value"] for r in found], username
    for username in ("grid_manager2", "liaobu_dispatcher", "fire_handler"):  # another grid / town; a department
        client = client_as(username)
        assert results(client.get("/registry/pick/buildings/", {"q": "莞太"})) == [], username
        assert results(client.get("/registry/pick/buildings/", {"parent": building.code, "rooms": "1"})) == []
        assert results(client.get("/registry/pick/addresses/", {"q": "莞太"})) == [], username
    assert Client().get("/registry/pick/buildings/", {"q": "莞太"}).status_code == 302


def test_addresses_by_any_part_or_code(make_building, client_as):
    address = make_building().address
    client = client_as("grid_manager")
    for q in ("太路1", address.code[:12]):
        assert address.code in [r["value"] for r in results(client.get("/registry/pick/addresses/", {"q": q}))], q
    assert results(client.get("/registry/pick/addresses/", {"value": address.code}))[0]["label"] == address.full_text


def test_move_in_form_uses_the_picker_and_still_checks_the_jurisdiction(make_person, make_building, client_as):
    person = make_person(ID_A)
    page = client_as("town_dispatcher").get(f"/registry/people/{person.pk}/").content.decode()
    assert 'data-picker="/registry/pick/buildings/?rooms=1"' in page
    elsewhere = make_building(GRID_B, name="邻村楼")
    response = client_as("grid_manager").post(
        f"/registry/people/{person.pk}/move/", {"building": elsewhere.code, "room": "101", "version": person.version}
    )
    assert response.status_code == 400 and response.context["move_form"].errors["room"]
    assert not Tenancy.objects.filter(room__building=elsewhere).exists()
    here = make_building(name="新楼")
    response = client_as("grid_manager").post(
        f"/registry/people/{person.pk}/move/", {"building": here.code, "room": "102", "version": person.version}
    )
    assert response.status_code == 302
    assert Tenancy.objects.get(person=person, moved_out__isnull=True).room.building == here


def test_new_person_picks_a_room_by_id_or_an_area(make_building, client_as):
    from wangge.registry.models import Person

    from .conftest import GRID_A, ID_B

    building = make_building()
    client = client_as("grid_manager")
    found = results(client.get("/registry/pick/buildings/", {"q": "莞太", "rooms": "pk"}))
    assert found[0]["pick"] is False and found[0]["children"]  # a building opens; its rooms are picked
    rooms = results(client.get("/registry/pick/buildings/", {"parent": building.code, "rooms": "pk"}))
    room = building.rooms.get(number="102")
    assert {"value": str(room.pk), "label": "102"}.items() <= rooms[1].items()
    assert results(client.get("/registry/pick/buildings/", {"value": str(room.pk), "rooms": "pk"}))[0]["label"] == (
        "测试楼 102"
    )
    assert results(client_as("grid_manager2").get("/registry/pick/buildings/", {"value": room.pk, "rooms": "pk"})) == []

    page = client.get("/registry/people/new/").content.decode()
    assert 'data-picker="/registry/pick/buildings/?rooms=pk"' in page and 'data-picker="/pick/areas/"' in page
    other = make_building(GRID_B, name="邻村楼").rooms.first()
    refused = client.post("/registry/people/new/", {"name": "赵六", "person_type": "floating", "room": other.pk})
    assert refused.status_code == 400 and refused.context["form"].errors["room"]  # on the field, not a 404
    refused = client.post("/registry/people/new/", {"name": "赵六", "person_type": "floating", "area_code": GRID_B})
    assert refused.status_code == 400 and refused.context["form"].errors["area_code"]
    assert not Person.objects.filter(name="赵六").exists()
    ok = client.post("/registry/people/new/", {"name": "赵六", "person_type": "floating", "id_number": ID_B,
                                               "area_code": GRID_A})  # fmt: skip
    assert ok.status_code == 302 and Person.objects.get(name="赵六").area.code == GRID_A
