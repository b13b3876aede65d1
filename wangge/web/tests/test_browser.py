"""End to end in headless Chromium (Debian's package, driven by Playwright) against a live server."""

import os
import shutil
from pathlib import Path

import pytest

from wangge.demo import DEMO_PASSWORD, build_demo

pytestmark = pytest.mark.browser
# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain fixtures.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.skip("SKIPPED: chromium is not installed (scripts/ensure-chromium.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def city(transactional_db):
    build_demo("test", log=lambda line: None)


@pytest.fixture
def page(browser, live_server, city):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


def log_in(page, username):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/")


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
    page.wait_for_function("document.getElementById('locate-result').textContent.length > 0")
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
