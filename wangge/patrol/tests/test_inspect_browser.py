"""A grid manager inspects a rental house on the phone: finds it by its door-plate code, answers the
checklist, a blocked exit becomes a case of the fire department's matter item."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.patrol import actions
from wangge.patrol.models import Inspection
from wangge.registry.models import RentalHouse
from wangge.registry.tests.conftest import new_building

pytestmark = pytest.mark.browser


def test_inspection_with_a_failed_item_creates_a_case(new_page, user):
    building = new_building(user("admin"))  # in grid_manager's grid
    rental = RentalHouse.objects.create(building=building, area=building.area, area_path=building.area_path)
    actions.plan_inspections()
    page = new_page({"width": 390, "height": 844})
    log_in(page, "grid_manager")
    page.goto(page.base_url + "/patrol/m/#scan")
    page.fill("#scan-form input[name=code]", page.base_url + f"/q/{building.qr_token}/")  # what the plate holds
    page.click("#scan-form button")
    page.click(f"#scan-result a[href*='#inspect/rental/{rental.pk}/']")
    page.wait_for_selector("fieldset[data-code=exit_clear]")

    def answer(code, value):
        page.check(f"fieldset[data-code={code}] input[value='{value}']")

    answer("exit_clear", "false")
    for code in ("extinguisher", "smoke_alarm", "wiring", "tenants_declared"):
        answer(code, "true")
    page.click("#inspect-form button[type=submit]")  # too early: what is still missing is listed
    assert "疏散通道" in page.inner_text("#inspect-error") and not Inspection.objects.filter(rental=rental).exists()
    answer("ebike_indoor", "false")
    page.fill("fieldset[data-code=tenant_count] input", "6")
    page.check("fieldset[data-code=exit_clear] input[value=case]")
    page.fill("fieldset[data-code=exit_clear] input[name$='-note']", "楼梯间堆放纸箱")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "field-app-inspection.png"), full_page=True)
    page.context.set_offline(True)  # no signal at the door: it waits in the outbox, said in words
    page.click("#inspect-form button[type=submit]")
    page.wait_for_selector("#inspect-done:not([hidden])")
    checklist = page.inner_text("#inspect-checklist").rsplit(" v", 1)[0]
    page.click("a.outbox")
    assert f"巡查：{rental}（{checklist}）" in page.inner_text("#outbox")
    page.context.set_offline(False)
    page.wait_for_function("() => document.querySelector('#outbox-count').textContent === '0'", timeout=15000)
    inspection = Inspection.objects.get(rental=rental)
    assert inspection.result == "cases" and inspection.gps == "missing"  # no GPS permission given: not invented
    case = inspection.answers.get(item__code="exit_clear").case
    assert case.matter_item.code == "fire_exit" and "楼梯间堆放纸箱" in case.description
