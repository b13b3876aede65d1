"""The sensor pages in headless Chromium: the list with its map, filtered to alarms, then one sensor
with its readings chart (screenshot in docs/screenshots)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.areas.models import Area
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases.models import MatterItem
from wangge.sensors import actions
from wangge.sensors.models import Kind, Sensor

pytestmark = pytest.mark.browser


def place(code, name, grid, kind=Kind.MANHOLE, threshold=15.0, metric="°", offset=0.0):
    area = Area.objects.get(code=grid)
    sensor = Sensor(code=code, name=name, kind=kind, lat=area.centroid_lat + offset, lng=area.centroid_lng)
    sensor.matter_item, sensor.metric, sensor.threshold = MatterItem.objects.get(code="manhole"), metric, threshold
    return actions.save_sensor(sensor)


def test_the_list_filtered_to_alarms_opens_a_sensor_with_its_chart(page):
    now = timezone.now()
    place("mh-alarm", "竹溪路井盖倾角", "441900122002001")
    place("wl-normal", "竹溪路窨井水位", "441900122002002", Kind.WATER_LEVEL, 1.2, "m", 0.0005)
    place("mh-next", "邻村井盖", "441900122003001")  # the next village: not village_dispatcher's
    for hours in range(36, 0, -3):
        at = now - timedelta(hours=hours)
        actions.record_reading("mh-alarm", f"a{hours}", 3 + hours % 5, at)
        actions.record_reading("wl-normal", f"w{hours}", 0.6 + (hours % 4) / 10, at)
        actions.record_reading("mh-next", f"n{hours}", 40, at)
    actions.record_reading("mh-alarm", "alarm", 31.5, now - timedelta(minutes=10))

    log_in(page, "village_dispatcher")
    page.click('nav.mainnav a[href="/sensors/"]')
    page.wait_for_selector("#sensor-map[data-loaded]")
    assert page.get_attribute("#sensor-map", "data-loaded") == "2"
    assert page.locator("#sensor-table tbody tr[data-code]").count() == 2  # not the next village's
    assert page.text_content('#state-tabs [data-state="alarm"] .count').strip() == "1"

    page.click('#state-tabs [data-state="alarm"]')
    page.wait_for_url("**/sensors/?state=alarm*")
    codes = page.locator("#sensor-table tbody tr[data-code]")
    assert codes.count() == 1 and codes.first.get_attribute("data-state") == "alarm"

    page.click('#sensor-table a[href="/sensors/mh-alarm/"]')
    page.wait_for_selector("#sensor-chart[data-ready]")
    assert page.locator("#sensor-chart canvas").count() >= 1
    assert page.locator("#open-case a").count() == 1
    assert page.locator("#sensor-readings tbody tr").count() == 13
    page.wait_for_timeout(600)  # chart animation
    page.screenshot(path=str(SCREENSHOTS / "sensor-detail.png"), full_page=True)

    page.click("#open-case a")  # the case page links back to its sensor
    page.wait_for_selector("#case-sensor a")
    assert page.get_attribute("#case-sensor a", "href") == "/sensors/mh-alarm/"
    assert page.goto(page.base_url + "/sensors/mh-next/").status == 404
