"""The scheme form in headless Chromium: an administrator adds an indicator row, sees the running
weight total and the page's error when the weights do not add up, fixes a weight and saves
version 2 (screenshot in docs/screenshots)."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.evaluation import schemes
from wangge.evaluation.models import Scheme, SchemeVersion

pytestmark = pytest.mark.browser


def test_an_administrator_adds_a_row_fixes_a_weight_and_saves_version_2(page):
    schemes.install(Scheme, SchemeVersion)  # the migration's rows, gone if an earlier test flushed them
    log_in(page, "admin")
    page.goto(page.base_url + "/evaluation/schemes/cjj-department/")
    page.click("#edit-scheme")
    page.wait_for_selector("#scheme-form")
    rows = page.locator("#item-rows tr.item-row")
    assert rows.count() == 4
    assert page.text_content("#weight-total") == "100"

    page.click("#add-item")
    assert rows.count() == 5
    added = rows.nth(4)
    added.locator('select[name="item_indicator"]').select_option("dept_response_rate")
    assert added.locator("[data-unit-label]").text_content() == "%"
    added.locator('input[name="item_weight"]').fill("10")
    added.locator('input[name="item_target"]').fill("90")
    assert page.text_content("#weight-total") == "110"
    assert "off" in page.get_attribute("#weight-total", "class")

    page.click("#save-scheme")
    page.wait_for_selector('[data-error="items"]')
    assert "110" in page.text_content('[data-error="items"]')
    assert rows.count() == 5  # the added row is kept, with what was typed
    assert rows.nth(4).locator('input[name="item_weight"]').input_value() == "10"
    assert SchemeVersion.objects.filter(scheme__code="cjj-department").count() == 1

    rows.nth(0).locator('input[name="item_weight"]').fill("30")
    assert page.text_content("#weight-total") == "100"
    assert "off" not in (page.get_attribute("#weight-total", "class") or "")
    page.fill('textarea[name="note"]', "增加响应率,按期处置率权重降为30")
    page.screenshot(path=str(SCREENSHOTS / "evaluation-scheme-edit.png"), full_page=True)
    page.click("#save-scheme")
    page.wait_for_url("**/evaluation/schemes/cjj-department/")
    assert page.locator('#scheme-versions tr[data-number="2"]').count() == 1
    v2 = SchemeVersion.objects.get(scheme__code="cjj-department", number=2)
    assert v2.body["items"][0]["weight"] == 30
    assert v2.body["items"][-1] == {"indicator": "dept_response_rate", "weight": 10, "target": 0.9}
    assert v2.note == "增加响应率,按期处置率权重降为30"
