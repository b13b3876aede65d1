"""The field app on a phone in headless Chromium: installable shell, reports without a signal sent
exactly once when it returns, the app reloading offline, and positions sent while on duty."""

import pytest

from wangge.cases.models import Case, Channel
from wangge.patrol.models import TrackDay
from wangge.patrol.queries import assigned_grid

from .conftest import open_field_app

pytestmark = pytest.mark.browser


def wait_outbox(page, count):
    page.wait_for_function(f"() => document.querySelector('#outbox-count').textContent === '{count}'", timeout=15000)


def test_reports_made_offline_arrive_once_when_back_online(new_page, settings, user):
    settings.PATROL_POSITION_INTERVAL_SECONDS = 1
    page = open_field_app(new_page, user, wait_for_tasks=False)
    inside = assigned_grid(user("grid_manager")).representative_point()
    # The app shell's first load, as the browser fetched it (uncompressed here; gzip makes it smaller).
    shell_bytes = page.evaluate(
        "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".reduce((sum, e) => sum + e.encodedBodySize, 0)"
    )
    print(f"field app shell first load: {shell_bytes / 1024:.1f} KB")
    assert 0 < shell_bytes <= 300 * 1024
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/patrol/m/"
    before = Case.objects.filter(channel=Channel.GRID_MANAGER).count()

    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    for text in ("井盖缺失，路人易踩空", "小区门口垃圾堆积三天"):
        page.click("a.tile[href='#report']")
        page.fill("textarea[name=description]", text)
        page.click("#report-form button[type=submit]")
        page.wait_for_selector("#report-done:not([hidden])")
        page.click("a.title")
    wait_outbox(page, 2)
    assert Case.objects.filter(channel=Channel.GRID_MANAGER).count() == before

    page.reload()  # no signal: the service worker serves the app, the outbox is still there
    wait_outbox(page, 2)

    page.context.set_offline(False)
    wait_outbox(page, 0)
    page.click("a.outbox")
    page.click("#sync-now")  # sending again finds nothing left to send
    new_cases = Case.objects.filter(channel=Channel.GRID_MANAGER).order_by("pk")[before:]
    assert [c.description for c in new_cases] == ["井盖缺失，路人易踩空", "小区门口垃圾堆积三天"]
    assert all(c.lat and abs(c.lat - inside.y) < 1e-6 for c in new_cases)  # the phone's GPS fix
    assert len({c.idempotency_key for c in new_cases}) == 2

    # On duty: each new fix is sent; ending duty sends what is left.
    def points_sent():
        return sum(t.point_count for t in TrackDay.objects.filter(worker__username="grid_manager"))

    points_before = points_sent()
    page.click("a.title")
    page.click("#duty")
    page.wait_for_timeout(1500)
    page.context.set_geolocation({"latitude": inside.y + 0.0003, "longitude": inside.x, "accuracy": 8})
    page.wait_for_function(
        f"() => document.querySelector('#gps-state').textContent.startsWith('{inside.y + 0.0003:.5f}')"
    )
    page.wait_for_timeout(1500)

    def positions_post(response):
        return response.url.endswith("/api/v1/patrol/positions") and response.request.method == "POST"

    with page.expect_response(positions_post) as sent:
        page.click("#duty")
    assert sent.value.ok
    wait_outbox(page, 0)
    assert points_sent() >= points_before + 2
