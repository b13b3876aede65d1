"""In headless Chromium: a grid manager opens a building, registers a person in one of its rooms,
sees the ID number masked on the person's page, then shows it in full with a reason (logged)."""

import pytest

from wangge.accounts.models import User
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.privacy.models import PersonalDataAccess
from wangge.registry import actions
from wangge.registry.models import Person

from .conftest import GRID_A, ID_B, point_in

pytestmark = pytest.mark.browser


def test_register_a_person_in_a_room_masked_then_revealed(new_page):
    admin = User.objects.get(username="admin")
    lat, lng = point_in(GRID_A)
    address = actions.save_address(admin, {"road": "浏览器路", "number": "8号", "lat": lat, "lng": lng})
    building = actions.save_building(
        admin, {"name": "浏览器测试楼", "address": address.code, "use": "rental", "floors": 3}
    )
    room = actions.save_room(admin, building, {"number": "301", "floor": 3})

    page = new_page()
    log_in(page, "grid_manager")
    page.goto(f"{page.base_url}/registry/buildings/{building.pk}/")
    page.click(f"tr[data-room='{room.pk}'] a")
    page.fill("input[name=name]", "孙八")
    page.select_option("select[name=person_type]", "floating")
    page.fill("input[name=id_number]", ID_B)
    page.fill("input[name=phone]", "13600005678")
    page.click("form.register-form button[type=submit]")
    page.wait_for_selector("#residence")
    person = Person.objects.get(name="孙八")
    assert person.residence_id == room.pk
    body = page.text_content("main")
    assert "4****************4" in body and ID_B not in body and "13600005678" not in body

    control = page.locator(".pii[data-field=id_number]")
    control.locator("summary").click()
    control.locator("input[name=reason]").fill("核对身份")
    control.locator("button[type=submit]").click()
    page.wait_for_selector(".pii[data-field=id_number] .pii-clear")
    assert page.text_content(".pii[data-field=id_number] .pii-clear").strip() == ID_B
    log = PersonalDataAccess.objects.get()
    assert (log.user_name, log.reason, log.object_id) == ("grid_manager", "核对身份", str(person.pk))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "registry-person.png"), full_page=True)


def test_a_landlord_declares_a_tenant_and_sees_the_score_rise(new_page):
    """The landlord's own pages in a real browser: my rental houses → one house → declare a tenant."""
    from wangge.registry.models import Room, Tenancy

    admin = User.objects.get(username="admin")
    lat, lng = point_in(GRID_A)
    address = actions.save_address(admin, {"road": "房东路", "number": "3号", "lat": lat, "lng": lng})
    building = actions.save_building(
        admin, {"name": "房东自有楼", "address": address.code, "use": "rental", "floors": 2, "contact_name": "房东"}
    )
    room = actions.save_room(admin, building, {"number": "201", "floor": 2, "is_occupied": True})
    rental = actions.save_rental(
        admin, {"building": building.code, "landlord_user": "landlord", "landlord_phone": "13800138000"}
    )
    assert not Room.objects.get(pk=room.pk).tenancies.exists()

    page = new_page()
    log_in(page, "landlord")
    page.goto(f"{page.base_url}/registry/my-rentals/")
    page.click(f"a[href='/registry/my-rentals/{rental.pk}/']")
    score_before = int(page.text_content("#score").rstrip("%"))
    assert score_before < 100 and "201" in page.text_content(".compliance")
    page.select_option("form.tenant-form select[name=room]", str(room.pk))
    page.fill("form.tenant-form input[name=name]", "租客乙")
    page.select_option("form.tenant-form select[name=person_type]", "floating")
    page.fill("form.tenant-form input[name=id_number]", ID_B)
    page.click("form.tenant-form button[type=submit]")
    # A new tenant waits for the grid staff, as anyone else does (the answer never tells who is registered).
    page.wait_for_selector(".declarations >> text=租客乙")
    from wangge.registry.models import TenantDeclaration

    actions.review_declaration(User.objects.get(username="grid_manager"),
                               TenantDeclaration.objects.get(declared_name="租客乙"), "confirm")  # fmt: skip
    page.reload()
    page.wait_for_selector(f"tr[data-room='{room.pk}'] >> text=租客乙")
    assert int(page.text_content("#score").rstrip("%")) == 100
    assert Tenancy.objects.get(person__name="租客乙").source == "landlord"
    assert ID_B not in page.text_content("main")


def test_a_room_is_edited_and_a_stale_edit_is_refused_with_a_message(new_page):
    """The room form on the building page; two people editing one room: the second is told."""
    admin = User.objects.get(username="admin")
    lat, lng = point_in(GRID_A)
    address = actions.save_address(admin, {"road": "改房路", "number": "2号", "lat": lat, "lng": lng})
    fields = {"name": "改房测试楼", "address": address.code, "use": "rental", "floors": 2}
    building = actions.save_building(admin, fields)
    room = actions.save_room(admin, building, {"number": "101", "floor": 1})

    page = new_page()
    log_in(page, "grid_manager")
    page.goto(f"{page.base_url}/registry/buildings/{building.pk}/")
    page.click(f"a[href$='/rooms/{room.pk}/edit/']")
    page.fill("input[name=number]", "102")
    page.click("form.register-form button[type=submit]")
    page.wait_for_url(f"{page.base_url}/registry/buildings/{building.pk}/")
    assert "102" in page.text_content(f"tr[data-room='{room.pk}']")
    room.refresh_from_db()
    assert room.number == "102"

    page.click(f"a[href$='/rooms/{room.pk}/edit/']")  # the form now holds this version…
    actions.save_room(admin, building, {"number": "103", "floor": 1}, room=room, version=room.version)
    page.fill("input[name=number]", "104")  # …and another edit lands first
    page.click("form.register-form button[type=submit]")
    alert = page.locator(".message.error")
    alert.wait_for()
    assert alert.text_content().strip()
    room.refresh_from_db()
    assert room.number == "103"  # the later, stale edit wrote nothing


def test_an_exact_search_by_id_number_is_a_logged_post_and_the_number_never_reaches_the_url(new_page):
    admin = User.objects.get(username="admin")
    lat, lng = point_in(GRID_A)
    address = actions.save_address(admin, {"road": "精确路", "number": "9号", "lat": lat, "lng": lng})
    building = actions.save_building(
        admin, {"name": "精确查询楼", "address": address.code, "use": "rental", "floors": 2}
    )
    room = actions.save_room(admin, building, {"number": "201", "floor": 2})
    person = actions.register_person(
        admin, {"name": "周九", "person_type": "registered", "id_number": ID_B, "room": room.pk}
    )

    page = new_page()
    log_in(page, "grid_manager")
    page.goto(f"{page.base_url}/registry/people/")
    form = page.locator("form.exact-search")
    form.locator("input[name=value]").fill(ID_B)
    form.locator("input[name=reason]").fill("核对来访人员")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/registry/people/?search=*")
    assert ID_B not in page.url
    assert "周九" in page.text_content("main") and ID_B not in page.text_content("main")
    log = PersonalDataAccess.objects.get()
    assert (log.user_name, log.reason, log.object_id) == ("grid_manager", "核对来访人员", str(person.pk))
