"""吹哨报到 in headless Chromium: the dispatcher watches the summons' page while the fire department's
staff press "我已到达" on a phone whose GPS first is far away (flagged, not counted), then on site (on
time); the dispatcher's board turns to "按时到达" by itself (polling)."""

import pytest

from wangge.accounts.models import User
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases.tests.conftest import VILLAGE_A_GRID, point_in
from wangge.summons import actions
from wangge.summons.models import Arrival, Attendance

from .conftest import north

pytestmark = [pytest.mark.browser, pytest.mark.serial]

PHONE = {"width": 390, "height": 844}


def phone(browser, live_server, lat, lng, accuracy=10):
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        geolocation={"latitude": lat, "longitude": lng, "accuracy": accuracy},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.base_url = live_server.url
    return context, page


def test_the_phone_reports_arrival_and_the_dispatcher_sees_it(browser, live_server, city, new_page):
    lat, lng = point_in(VILLAGE_A_GRID)
    summons = actions.summon(
        User.objects.get(username="village_dispatcher"), departments=["fire"], lat=lat, lng=lng, reason="河堤险情"
    )
    watcher = new_page()
    log_in(watcher, "village_dispatcher")
    watcher.goto(f"{live_server.url}/summons/{summons.pk}/")
    watcher.wait_for_selector("#summons-board tr[data-department='fire'][data-state='waiting']")

    far_lat, far_lng = north(lat, lng, 1200)
    context, page = phone(browser, live_server, far_lat, far_lng)
    try:
        log_in(page, "fire_handler")
        page.goto(f"{live_server.url}/summons/{summons.pk}/")
        page.click("#arrive-button")
        page.wait_for_selector(".message:has-text('不计为到达')")
        assert Arrival.objects.get().too_far
        context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": 10})
        page.click("#arrive-button")
        page.wait_for_selector(".message:has-text('按时到达')")
        page.screenshot(path=str(SCREENSHOTS / "summons-phone.png"), full_page=True)
    finally:
        context.close()
    assert summons.departments.get().state == Attendance.ARRIVED
    good = Arrival.objects.order_by("-id").first()
    assert good.counts and good.accuracy_m == 10 and good.distance_m < 5
    # The dispatcher's page was not reloaded: its board polls.
    watcher.wait_for_selector("#summons-board tr[data-department='fire'][data-state='arrived']", timeout=25_000)
    watcher.screenshot(path=str(SCREENSHOTS / "summons.png"), full_page=True)
