"""The field app's other pages on a phone in headless Chromium: today's tasks on a list and a map
(tap a task → its inspection), registering a tenant without a signal (sent once when it returns,
errors shown next to the fields), and every page usable in under a second on a throttled 3G line
after the first load, whose size is measured compressed."""

import gzip
import time
import urllib.request

import pytest

from wangge.browser_testing import SCREENSHOTS
from wangge.patrol import actions
from wangge.patrol.models import ResidentRegistration
from wangge.registry.models import Person, RentalHouse, Tenancy
from wangge.registry.tests.conftest import ID_B, new_building

from .conftest import open_field_app

pytestmark = pytest.mark.browser
# Chromium's throttling (CDP Network.emulateNetworkConditions): a slow 3G line.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8}


def test_tasks_on_a_list_and_a_map_tap_opens_the_inspection(new_page, user):
    building = new_building(user("admin"))  # in grid_manager's grid
    rental = RentalHouse.objects.create(building=building, area=building.area, area_path=building.area_path)
    actions.plan_inspections()
    page = open_field_app(new_page, user)
    page.click("a.tile[href='#tasks']")
    page.wait_for_selector(f"#tasks a[href*='#inspect/rental/{rental.pk}/']")
    page.click("#tasks-view button[data-view=map]")
    page.wait_for_selector(".me-marker", timeout=15000)  # my position
    markers = page.locator("path.task-marker")
    assert markers.count() >= 1 and page.locator("#tasks").is_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "field-app-task-map.png"))
    # Tap a task → its popup → its inspection opens with the checklist.
    markers.last.click(force=True)
    link = page.locator(".leaflet-popup a.map-inspect")
    link.wait_for()
    target = link.get_attribute("href").split("/")[1:3]
    link.click()
    page.wait_for_selector("#page-inspect:not([hidden]) fieldset.item")
    assert page.evaluate("location.hash").startswith(f"#inspect/{target[0]}/{target[1]}/")


def test_a_tenant_registered_offline_arrives_once_and_errors_show_by_the_field(new_page, user):
    building = new_building(user("admin"), name="测试出租楼")
    room = building.rooms.get(number="102")
    page = open_field_app(new_page, user)
    page.click("a.tile[href='#register']")
    page.fill("#building-search input[name=q]", "测试出租楼")
    page.click("#building-search button")
    page.click("#building-results button.pick")
    page.select_option("#register-form select[name=room]", str(room.pk))
    before = Person.objects.count()

    page.context.set_offline(True)  # in the basement: kept on the phone
    page.wait_for_function("() => !navigator.onLine")
    page.fill("#register-form input[name=name]", "李四")
    page.fill("#register-form input[name=id_number]", ID_B)
    page.fill("#register-form input[name=phone]", "13900002222")
    page.select_option("#register-form select[name=person_type]", "floating")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#register-done:not([hidden])")
    page.wait_for_function("() => document.querySelector('#outbox-count').textContent === '1'")
    assert Person.objects.count() == before

    page.context.set_offline(False)
    page.wait_for_function("() => document.querySelector('#outbox-count').textContent === '0'", timeout=15000)
    page.click("a.outbox")
    page.click("#sync-now")  # nothing left: nothing sent twice
    person = Person.objects.get(name="李四")
    assert Person.objects.count() == before + 1 and person.residence == room
    assert Tenancy.objects.filter(person=person, moved_out__isnull=True).count() == 1
    assert ResidentRegistration.objects.filter(person=person).count() == 1

    # A wrong ID number and phone come back from the server: shown next to those fields.
    page.goto(page.base_url + "/patrol/m/#register")
    page.fill("#building-search input[name=q]", "测试出租楼")
    page.click("#building-search button")
    page.click("#building-results button.pick")
    page.select_option("#register-form select[name=room]", str(room.pk))
    page.fill("#register-form input[name=name]", "王五")
    page.fill("#register-form input[name=id_number]", "110105194912310021")
    page.fill("#register-form input[name=phone]", "12")
    page.click("#register-form button[type=submit]")
    id_error = page.locator("#register-form label:has(input[name=id_number]) .field-error")
    id_error.wait_for()
    assert page.locator("#register-form label:has(input[name=phone]) .field-error").count() == 1
    assert not Person.objects.filter(name="王五").exists()
    # Corrected, it goes through; the refused copy leaves the outbox.
    page.fill("#register-form input[name=id_number]", "11010519491231002X")
    page.fill("#register-form input[name=phone]", "13900003333")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#register-done:not([hidden])")
    page.wait_for_function("() => document.querySelector('#outbox-count').textContent === '0'")
    assert Person.objects.filter(name="王五", residence=room).count() == 1


def compressed_first_load(page) -> tuple[int, int]:
    """(bytes as sent, gzip bytes) of the shell's first load: the page and every file it fetched."""
    urls = page.evaluate(
        "[location.href.split('#')[0]].concat(performance.getEntriesByType('resource').map(e => e.name))"
    )
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    raw = packed = 0
    for url in dict.fromkeys(u for u in urls if u.startswith(page.base_url) and "/api/" not in u):
        request = urllib.request.Request(url, headers={"Cookie": cookies})
        with urllib.request.urlopen(request) as response:
            body = response.read()
        raw += len(body)
        packed += len(gzip.compress(body, compresslevel=9))  # as whitenoise precompresses static files
    return raw, packed


PAGES = ["tasks", "report", "scan", "cases", "figures", "register", "sync"]


def test_every_page_is_usable_within_a_second_on_slow_3g(new_page, user):
    building = new_building(user("admin"))
    RentalHouse.objects.create(building=building, area=building.area, area_path=building.area_path)
    actions.plan_inspections()
    page = open_field_app(new_page, user)
    raw, packed = compressed_first_load(page)
    print(f"\nfield app shell first load: {raw / 1024:.1f} KB, {packed / 1024:.1f} KB gzip-compressed")
    assert 0 < packed <= 300 * 1024
    for name in PAGES:  # the first visit of each page (warms the phone's copies)
        page.evaluate(f"location.hash = '#{name}'")
        page.wait_for_selector(f"#page-{name}[data-ready='1']:not([hidden])", timeout=15000)
    page.evaluate("location.hash = '#home'")

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    started = time.perf_counter()
    page.evaluate("fetch('/healthz', {cache: 'no-store'}).then(r => r.status)")
    round_trip = (time.perf_counter() - started) * 1000
    print(f"throttled: one request takes {round_trip:.0f} ms")
    assert round_trip >= 400  # the throttling is on
    timings = {}
    for name in PAGES:
        page.evaluate("location.hash = '#home'")
        timings[name] = page.evaluate(
            """(name) => new Promise((resolve) => {
                const started = performance.now();
                location.hash = '#' + name;
                const check = () => {
                  const section = document.getElementById('page-' + name);
                  if (!section.hidden && section.dataset.ready === '1') resolve(performance.now() - started);
                  else requestAnimationFrame(check);
                };
                check();
            })""",
            name,
        )
    page.evaluate("document.querySelector('#tasks-view button[data-view=map]').click(); location.hash = '#tasks'")
    started_map = time.perf_counter()
    page.wait_for_selector("#tasks-map path.task-marker", state="attached")
    timings["tasks map"] = (time.perf_counter() - started_map) * 1000
    print("on slow 3G (400 kbit/s, 400 ms): " + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items()))
    assert all(value < 1000 for value in timings.values()), timings
