"""Moving a person in (迁入) in headless Chromium: the building is found by its standard address,
opened with ▸, and one of its rooms picked; no code typed."""

import pytest
from playwright.sync_api import expect

from wangge.accounts.models import User
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.registry import actions
from wangge.registry.models import Tenancy

from .conftest import ID_B, new_building

pytestmark = pytest.mark.browser

BUILDING_BOX = "input[name=building] + .picker .picker-box"


def test_move_in_picks_the_building_by_address_and_its_room(page):
    admin = User.objects.get(username="admin")
    first, second = new_building(admin, name="旧楼"), new_building(admin, name="新楼")
    person = actions.register_person(
        admin, {"name": "孙八", "person_type": "floating", "id_number": ID_B, "room": first.rooms.first().pk}
    )
    log_in(page, "grid_manager")
    page.goto(f"{page.base_url}/registry/people/{person.pk}/")
    assert page.locator("input[name=building]").is_hidden()
    page.fill(BUILDING_BOX, "莞太路")  # any part of the standard address
    row = page.locator(f".picker-row[data-value='{second.code}']")
    row.wait_for()
    row.locator("button.toggle").dispatch_event("mousedown")  # ▸ its rooms
    room = page.locator(f".picker-list ul .picker-row[data-value='{second.code}']", has_text="102")
    room.wait_for()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "picker-move-in.png"))
    room.dispatch_event("mousedown")
    assert page.input_value("input[name=building]") == second.code
    assert page.input_value("input[name=room]") == "102"
    page.click("form.move-form button[type=submit]")
    page.wait_for_url(f"**/registry/people/{person.pk}/")
    current = Tenancy.objects.get(person=person, moved_out__isnull=True)
    assert current.room == second.rooms.get(number="102")


def test_new_rental_picks_the_building_then_offers_its_rooms(page):
    building = new_building(User.objects.get(username="admin"), name="出租楼")
    log_in(page, "grid_manager")
    page.goto(f"{page.base_url}/registry/rentals/new/")
    page.fill(BUILDING_BOX, "出租")
    row = page.locator(f".picker-row[data-value='{building.code}']")
    row.wait_for()
    row.dispatch_event("mousedown")
    page.wait_for_url(f"**building={building.code}")  # reloaded with it: its rooms are offered
    assert page.locator("input[name=rooms]").count() == 2
    expect(page.locator(BUILDING_BOX)).to_have_value("出租楼")
