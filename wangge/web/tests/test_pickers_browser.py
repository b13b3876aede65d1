"""The pickers in headless Chromium: the case queue's area filter as a tree of the user's areas and
by pinyin initials; the report form's category by pinyin initials ("ljx" → 垃圾箱)."""

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from wangge.areas.models import Area
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.core import pinyin

pytestmark = pytest.mark.browser

AREA_BOX = "input[name=area] + .picker .picker-box"
CATEGORY_BOX = "select[name=category] + .picker .picker-box"


def test_area_picker_on_the_case_queue(page):
    village = Area.objects.get(code="441900122002")
    log_in(page, "town_dispatcher")
    page.goto(page.base_url + "/cases/")
    assert page.locator("input[name=area]").is_hidden()  # the code field gives way to the search box
    page.click(AREA_BOX)
    # An empty box shows the top of the user's jurisdiction: their town, nothing beside it.
    rows = page.locator(".picker-list > li > .picker-row")
    rows.first.wait_for()
    assert rows.count() == 1 and "厚街镇" in rows.first.text_content()
    rows.first.locator("button.toggle").dispatch_event("mousedown")  # ▸ opens the villages
    page.locator(f".picker-list ul .picker-row[data-value='{village.code}']").wait_for()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "picker-area-tree.png"))

    page.fill(AREA_BOX, pinyin.keys(village.name)[0])  # the village by its pinyin initials
    match = page.locator(f".picker-list > li > .picker-row[data-value='{village.code}']")
    match.wait_for()
    match.dispatch_event("mousedown")
    assert page.input_value(AREA_BOX) == village.name
    assert page.input_value("input[name=area]") == village.code
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**area=*")
    assert parse_qs(urlparse(page.url).query)["area"] == [village.code]
    expect(page.locator(AREA_BOX)).to_have_value(village.name)  # by its name again after the reload

    # Another town is not offered, whatever one types.
    page.fill(AREA_BOX, "寮步")
    page.locator(".picker-list li.hint").wait_for()
    assert page.locator(".picker-list .picker-row").count() == 0


def test_category_picker_with_pinyin_initials_on_the_report_form(page):
    page.goto(page.base_url + "/report/")
    assert page.locator("select[name=category]").is_hidden()
    page.fill(CATEGORY_BOX, "ljx")
    row = page.locator(".picker-row[data-value='part:0305']")
    row.wait_for()
    assert "垃圾箱" in row.text_content()
    page.screenshot(path=str(SCREENSHOTS / "picker-category-pinyin.png"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # picks, does not send the form
    assert page.input_value("select[name=category]") == "part:0305"
    assert page.input_value(CATEGORY_BOX) == "市容环境 / 垃圾箱"
    assert page.url.endswith("/report/")

    # Or browse: an empty box lists the major classes; a major class opens (→) to its minor classes.
    page.fill(CATEGORY_BOX, "")
    page.keyboard.press("ArrowDown")
    group = page.locator(".picker-list > li > .picker-row.group[data-value='part:03']")
    group.wait_for()
    group.dispatch_event("mousedown")  # a group opens instead of being picked
    minor = page.locator(".picker-list ul .picker-row[data-value='part:0301']")
    minor.wait_for()
    page.keyboard.press("ArrowDown")  # the first row: 部件 · 公用设施 …
    assert page.get_attribute(CATEGORY_BOX, "aria-activedescendant")
    minor.dispatch_event("mousedown")
    assert page.input_value("select[name=category]") == "part:0301"
