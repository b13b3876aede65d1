"""The closed loop in headless Chromium: a citizen reports with a photo on the map, the village
dispatcher dispatches from the case page without a reload, a second dispatcher's stale click gets
the conflict message, the fire department finds it through the bell and its task list, accepts and
reports back, the grid manager verifies it on site, and the citizen follows and rates it."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases.models import Case

from .conftest import jpeg_bytes

pytestmark = pytest.mark.browser


def test_citizen_report_dispatch_and_conflict(new_page, tmp_path):
    citizen = new_page({"width": 412, "height": 900})  # a phone
    citizen.goto(citizen.base_url + "/report/")
    citizen.wait_for_selector("#pickmap[data-loaded]")
    citizen.fill("textarea[name=description]", "楼道堆放杂物，消防通道被堵")
    citizen.fill("input[name=reporter_phone]", "13700001234")
    # Click the map: the point comes back as WGS-84 coordinates in the hidden fields.
    from wangge.areas.models import Area

    village = Area.objects.get(code="441900122002001")
    citizen.evaluate(
        "([lat, lng]) => { document.querySelector('input[name=lat]').value = lat;"
        " document.querySelector('input[name=lng]').value = lng; }",
        [village.centroid_lat, village.centroid_lng],
    )
    citizen.click("#pickmap", position={"x": 200, "y": 150})
    assert citizen.input_value("input[name=lat]")  # the click set a point
    citizen.evaluate(
        "([lat, lng]) => { document.querySelector('input[name=lat]').value = lat;"
        " document.querySelector('input[name=lng]').value = lng; }",
        [village.centroid_lat, village.centroid_lng],
    )
    photo = tmp_path / "exit.jpg"
    photo.write_bytes(jpeg_bytes((640, 480)))
    citizen.set_input_files("input[name=photo]", str(photo))
    citizen.click("form.report-form button[type=submit]")
    citizen.wait_for_selector("#tracking-number")
    tracking = citizen.text_content("#tracking-number").strip()
    case = Case.objects.get(tracking_number=tracking)
    assert case.area.code == "441900122002001" and case.photos.count() == 1

    first, second = new_page(), new_page()
    log_in(first, "village_dispatcher")
    log_in(second, "town_dispatcher")
    for page in (first, second):
        page.goto(f"{page.base_url}/cases/{case.pk}/")
        page.wait_for_selector("form[data-action=dispatch]")
    assert first.locator("form[data-action=handle_on_site]").count() == 0

    first.check("form[data-action=dispatch] input[value=fire]")
    first.click("form[data-action=dispatch] button[type=submit]")
    first.wait_for_selector("#case-body[data-status=handling]")  # swapped in place, no reload
    assert "消防" in first.text_content("#case-body")

    second.click("form[data-action=reject] button[data-open-confirm]")  # irreversible: asks for the reason
    second.fill("form[data-action=reject] dialog textarea[name=note]", "重复")
    second.click("form[data-action=reject] dialog button[type=submit]")
    second.wait_for_selector("#case-body .message.error")
    assert second.locator("#case-body[data-status=handling]").count() == 1  # shows the current state
    case.refresh_from_db()
    assert case.status == "handling" and case.version == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    first.screenshot(path=str(SCREENSHOTS / "case-detail.png"), full_page=True)

    handler = new_page()
    log_in(handler, "fire_handler")
    assert handler.locator(".bell .badge").count() == 1  # told of the new assignment
    handler.click(".bell")
    handler.wait_for_selector(f"ul.notifications li:has-text('{case.number}')")
    handler.click("text=部门任务")
    handler.click(f"a:has-text('{case.number}')")
    handler.click("form[data-action=accept] button[type=submit]")
    handler.wait_for_selector("form[data-action=feedback]")
    handler.fill("form[data-action=feedback] textarea[name=note]", "已清理楼道杂物")
    handler.set_input_files("form[data-action=feedback] input[name=photo]", str(photo))
    handler.click("form[data-action=feedback] button[type=submit]")
    handler.wait_for_selector("#case-body[data-status=verifying]")

    manager = new_page({"width": 412, "height": 900})
    log_in(manager, "grid_manager")
    manager.goto(f"{manager.base_url}/cases/{case.pk}/")
    manager.fill("form[data-action=verify_pass] textarea[name=note]", "现场核查已整改")
    manager.click("form[data-action=verify_pass] button[type=submit]")
    manager.wait_for_selector("#case-body[data-status=closed]")

    citizen.goto(f"{citizen.base_url}/track/{tracking}/")
    assert "13700001234" not in citizen.content()
    assert "已清理楼道杂物" in citizen.text_content("ol.timeline")  # the department's feedback is public
    citizen.select_option("select[name=satisfaction]", "5")
    citizen.click("form button[type=submit]")
    citizen.wait_for_selector("text=5 / 5")
    citizen.screenshot(path=str(SCREENSHOTS / "citizen-track.png"), full_page=True)
    case.refresh_from_db()
    assert case.status == "closed" and case.outcome == "fixed" and case.satisfaction == 5
