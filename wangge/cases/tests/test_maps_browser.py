"""In headless Chromium: 不予立案 asks for the reason in a dialog before anything is sent; the
citizen's report page finds a place by address search, "use my location" or a click, and names
villages and grids as the user zooms in, all without a single request to another host when no
base map is configured; with the AMap preset, points are drawn shifted to GCJ-02."""

import pytest
from django.core.cache import cache

from wangge.accounts.models import User
from wangge.areas.coords import wgs84_to_gcj02
from wangge.areas.home import forget
from wangge.areas.models import Area
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases import actions
from wangge.cases.models import Case, Status
from wangge.registry import actions as registry
from wangge.web.csp import policy
from wangge.web.maptiles import tiles_from_env

pytestmark = pytest.mark.browser
GRID = "441900122002001"


def _report(description="消防通道被杂物堵塞", grid=GRID, dlat=0.0):
    area = Area.objects.get(code=GRID if grid is None else grid)
    report = actions.Report(
        description=description, channel="grid_manager", lat=area.centroid_lat + dlat, lng=area.centroid_lng
    )
    return actions.report_case(report, User.objects.get(username="grid_manager"))[0]


def _watch_hosts(page):
    """Every request the page makes to a host other than the live server (and fails on a script error)."""
    outside = []
    page.on("pageerror", lambda e: outside.append(f"script error: {e}"))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(page.base_url) else None)
    return outside


def test_reject_asks_for_the_reason_in_a_dialog(page):
    case = _report()
    other = _report(description="附近另一处堆放", dlat=0.0008)
    outside = _watch_hosts(page)
    log_in(page, "village_dispatcher")
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    page.wait_for_selector("#casemap[data-nearby='1']")
    assert page.locator(".area-label.grid").text_content() == case.area.name
    # The likely next step (立案) is the primary button; 不予立案 is apart and quiet.
    assert page.locator(".next-step form[data-action=register] button.primary").is_visible()
    assert page.locator("form[data-action=reject] button.primary").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "case-page-actions.png"), full_page=True)

    page.click("form[data-action=merge] button[data-open-confirm]")  # no case number yet: not asked why
    assert not page.locator("form[data-action=merge] dialog").is_visible()
    page.click("form[data-action=reject] button[data-open-confirm]")
    dialog = page.locator("form[data-action=reject] dialog")
    assert dialog.is_visible()
    page.screenshot(path=str(SCREENSHOTS / "case-reject-confirm.png"))
    page.click("form[data-action=reject] dialog button[type=submit]")  # empty reason: the browser holds it
    page.wait_for_timeout(300)
    assert dialog.is_visible() and Case.objects.get(pk=case.pk).status == Status.REPORTED
    page.click("form[data-action=reject] dialog button[data-close-confirm]")  # cancel: nothing sent
    assert not dialog.is_visible() and Case.objects.get(pk=case.pk).status == Status.REPORTED

    page.click("form[data-action=reject] button[data-open-confirm]")
    page.fill("form[data-action=reject] dialog textarea[name=note]", "不属于受理范围")
    page.click("form[data-action=reject] dialog button[type=submit]")
    page.wait_for_selector("#case-body[data-status=rejected]")
    notice = page.text_content(".next-notice")
    assert "不予立案：不属于受理范围" in notice and "已告知反映人" in notice
    assert Case.objects.get(pk=case.pk).status == Status.REJECTED

    # The next case: 立案 first, then 派遣 becomes the primary button; the page says who is next.
    page.goto(f"{page.base_url}/cases/{other.pk}/")
    page.click(".next-step form[data-action=register] button.primary")
    page.wait_for_selector("#case-body[data-status=registered]")
    assert "已立案，等待村(社区)调度员派遣" in page.text_content(".next-notice")
    page.check(".next-step form[data-action=dispatch] input[value=fire]")
    page.click(".next-step form[data-action=dispatch] button.primary")
    page.wait_for_selector("#case-body[data-status=handling]")
    assert "已派遣至消防救援支队，等待其签收（期限" in page.text_content(".next-notice")
    page.wait_for_selector("#casemap[data-drawn-at]")  # the swapped-in map is drawn again
    page.locator("#case-body").screenshot(path=str(SCREENSHOTS / "case-after-dispatch.png"))
    assert outside == []


def test_report_page_place_search_without_tiles(new_page, settings):
    cache.clear()
    admin = User.objects.get(username="admin")
    area = Area.objects.get(code=GRID)
    address = registry.save_address(
        admin, {"road": "竹溪路", "number": "18号", "lat": area.centroid_lat, "lng": area.centroid_lng}
    )
    page = new_page({"width": 412, "height": 900})  # a phone
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": area.centroid_lat + 0.0003, "longitude": area.centroid_lng})
    outside = _watch_hosts(page)
    page.goto(page.base_url + "/report/")
    page.wait_for_selector("#pickmap[data-loaded]")
    assert page.locator("#pickmap.plain").count() == 1  # no tiles: a plain background

    page.fill("#place-q", "竹溪路18")
    page.keyboard.press("Enter")  # searches, does not send the report
    page.wait_for_selector(".place-hit")
    assert page.text_content(".place-hit") == address.full_text
    page.click(".place-hit")
    assert abs(float(page.input_value("input[name=lat]")) - address.lat) < 1e-5
    assert abs(float(page.input_value("input[name=lng]")) - address.lng) < 1e-5
    # Zoomed in on the place: the villages and grids around it are drawn and named.
    page.wait_for_selector("#pickmap[data-areasgrid]")
    page.wait_for_selector(".area-label.grid")
    labels = page.locator(".area-label").all_text_contents()
    assert area.name in labels
    page.wait_for_selector("#pickmap[data-zoom='17']")
    page.click(".leaflet-control-zoom-out")
    page.wait_for_selector("#pickmap[data-zoom='16']")
    page.click(".leaflet-control-zoom-out")
    page.wait_for_selector("#pickmap[data-zoom='15']")
    page.wait_for_selector(".area-label.village")  # at 15: the villages by name, and their grids
    assert area.parent.name in page.locator(".area-label.village").all_text_contents()
    page.locator("fieldset.pickmap-wrap").screenshot(path=str(SCREENSHOTS / "citizen-report-map.png"))

    page.click("#use-gps")
    page.wait_for_selector("#pick-result:has-text('GPS')")
    assert abs(float(page.input_value("input[name=lat]")) - (area.centroid_lat + 0.0003)) < 1e-5

    page.click("#pickmap", position={"x": 100, "y": 100})
    assert page.text_content("#pick-result").startswith("✓")
    assert outside == []  # no tile server, no CDN: not one request to another host


def test_amap_preset_draws_points_shifted_to_gcj02(page, settings):
    forget()
    amap = tiles_from_env({"WANGGE_MAP_TILES": "amap"})
    settings.MAP_TILE_URL, settings.MAP_TILE_CRS = amap["url"], amap["crs"]
    settings.MAP_TILE_SUBDOMAINS, settings.MAP_TILE_ATTRIBUTION = amap["subdomains"], amap["attribution"]
    settings.SECURE_CSP = policy(amap["url"])
    tiles = []

    def tile(route):
        tiles.append(route.request.url)
        route.fulfill(status=204)

    page.route("**/*.is.autonavi.com/**", tile)
    case = _report()
    log_in(page, "village_dispatcher")
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    page.wait_for_selector("#casemap[data-drawn-at]")
    lat, lng = (float(v) for v in page.get_attribute("#casemap", "data-drawn-at").split(","))
    gcj_lng, gcj_lat = wgs84_to_gcj02(case.lng, case.lat)
    assert abs(lat - gcj_lat) < 1e-7 and abs(lng - gcj_lng) < 1e-7
    assert abs(lat - case.lat) > 1e-4  # the shift is real (hundreds of metres in Dongguan)
    # Boundaries go through the same function as points: it matches areas/coords.py across the city.
    root = Area.objects.get(parent__isnull=True)
    for p_lat, p_lng in [(root.min_lat, root.min_lng), (root.max_lat, root.max_lng), (case.lat, case.lng)]:
        js = page.evaluate("([lng, lat]) => wanggeMap.toGcj(lng, lat)", [p_lng, p_lat])
        py = wgs84_to_gcj02(p_lng, p_lat)
        assert abs(js[0] - py[0]) < 1e-9 and abs(js[1] - py[1]) < 1e-9
    page.wait_for_timeout(300)
    assert tiles and all("is.autonavi.com" in t for t in tiles)
    assert {t.split("//")[1].split(".")[0] for t in tiles} <= {"webrd01", "webrd02", "webrd03", "webrd04"}
