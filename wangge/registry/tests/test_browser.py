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
    assert "440524********0014" in body and ID_B not in body and "13600005678" not in body

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
