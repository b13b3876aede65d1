"""End to end in headless Chromium (Debian's package, driven by Playwright) against a live server."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


def test_dispatcher_browses_the_tree_and_locates_a_point(page):
    log_in(page, "town_dispatcher")
    assert "厚街镇" in page.text_content("main")
    page.click("text=区域")
    page.wait_for_selector("h1:has-text('区域树')")
    page.click("button.toggle[data-children-url='/areas/441900122/children/']")
    page.wait_for_selector("a[href='/areas/441900122002/']")
    page.click("a[href='/areas/441900122002/']")
    page.wait_for_selector("#map[data-loaded]")
    assert int(page.get_attribute("#map", "data-loaded")) == 5  # the village and its 4 grids
    assert page.locator(".leaflet-interactive").count() >= 5
    page.click("#map", position={"x": 400, "y": 260})
    page.wait_for_function("() => document.getElementById('locate-result').textContent.length > 0")
    assert page.get_attribute("#locate-result", "data-code").startswith("441900122002")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "area-detail.png"), full_page=True)


def test_grid_manager_cannot_open_another_town(page):
    log_in(page, "grid_manager")
    response = page.goto(page.base_url + "/areas/441900111/")
    assert response.status == 404
    response = page.goto(page.base_url + "/areas/441900122002001/")
    assert response.status == 200
    # Breadcrumb shows the ancestors as text only: the grid manager cannot open them.
    assert page.locator(".breadcrumb a[href='/areas/441900122002/']").count() == 0


def test_wrong_password_then_english(page):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".errors").count() == 1
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("h1:has-text('Log in')")
    log_in(page, "leader")
    assert page.locator("text=Log out").count() == 1
