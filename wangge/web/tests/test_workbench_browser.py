"""The workbench in headless Chromium: a village dispatcher and the fire department's handler see
their panels, each count opens the list with exactly those rows, a new report raises the
dispatcher's count without a reload (live events), and a grid manager's panel counts what the field
app left unsent in this browser (screenshot in docs/screenshots)."""

import re

import pytest
from playwright.sync_api import expect

from wangge.browser_testing import SCREENSHOTS, log_in

from .test_workbench import make_work, report

pytestmark = pytest.mark.browser


def tile_count(page, panel, tile):
    return int(page.text_content(f"[data-panel={panel}] [data-tile={tile}] .count"))


def list_rows(page):
    return page.locator("table.list tbody tr:not(:has(td.hint))").count()


def test_dispatcher_and_handler_workbench(new_page):
    make_work()
    page = new_page({"width": 1280, "height": 1000})
    log_in(page, "village_dispatcher")
    page.wait_for_selector("#workbench [data-panel=dispatcher]")
    assert "工作台" in page.title()
    counts = {t: tile_count(page, "dispatcher", t) for t in ("register", "dispatch", "dispatch_overdue", "returns")}
    assert counts == {"register": 2, "dispatch": 3, "dispatch_overdue": 1, "returns": 1}
    page.wait_for_selector("#workbench-live.on")  # listening to the live events
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "workbench.png"), full_page=True)

    for tile, expected in counts.items():
        page.click(f"[data-panel=dispatcher] [data-tile={tile}]")
        page.wait_for_url(re.compile(r"/cases/\?.*mine=1"))
        assert list_rows(page) == expected, tile
        page.go_back()
        page.wait_for_selector("#workbench [data-panel=dispatcher]")

    # A new report in the village: the count moves without a reload (live event → htmx swap).
    report(description="路灯不亮")
    expect(page.locator("[data-panel=dispatcher] [data-tile=register] .count")).to_have_text("3", timeout=20000)

    handler = new_page()
    log_in(handler, "fire_handler")
    handler.wait_for_selector("#workbench [data-panel=department]")
    assert "我的角色" in handler.text_content("body")
    for tile, expected in {"pending": 1, "rework": 1}.items():
        assert tile_count(handler, "department", tile) == expected
        handler.click(f"[data-panel=department] [data-tile={tile}]")
        handler.wait_for_url(f"**/cases/department/?show={tile}")
        assert list_rows(handler) == expected
        handler.go_back()
        handler.wait_for_selector("#workbench [data-panel=department]")


def test_grid_manager_sees_the_field_apps_unsent_items(new_page):
    page = new_page()
    log_in(page, "grid_manager")
    page.wait_for_selector("[data-outbox][data-loaded=none]")  # no field app data in this browser
    assert page.text_content("[data-outbox-count]").strip() == "–"
    # What the field app would have left in its outbox (same database and store, same origin).
    page.evaluate(
        """() => new Promise((resolve) => {
            const request = indexedDB.open("wangge-field", 1);
            request.onupgradeneeded = () =>
              request.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
            request.onsuccess = () => {
              const tx = request.result.transaction("outbox", "readwrite");
              const store = tx.objectStore("outbox");
              store.add({ key: "a", kind: "inspection", username: "grid_manager" });
              store.add({ key: "b", kind: "case", username: "grid_manager" });
              store.add({ key: "c", kind: "case", username: "someone_else" });
              tx.oncomplete = () => { request.result.close(); resolve(); };
            };
        })"""
    )
    page.reload()
    page.wait_for_selector("[data-outbox][data-loaded=yes]")
    assert page.text_content("[data-outbox-count]").strip() == "2"
