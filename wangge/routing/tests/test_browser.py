"""The dispatcher takes a routing suggestion in one click, in headless Chromium: the case page loads
its suggestions, the first button registers the case as suggested and dispatches it (swapped in place
by htmx); and at the hotline desk a suggestion fills the category and matter item as it is typed."""

import pytest

from wangge.accounts.models import User
from wangge.browser_testing import log_in
from wangge.cases import actions
from wangge.cases.models import Case, Status
from wangge.cases.tests.conftest import point_in

pytestmark = pytest.mark.browser


def test_the_dispatcher_picks_a_suggestion_in_one_click(new_page):
    lat, lng = point_in("441900122002001")
    report = actions.Report(
        description="路边有一大堆生活垃圾没人清理，苍蝇乱飞", channel="grid_manager", lat=lat, lng=lng
    )
    case = actions.report_case(report, User.objects.get(username="grid_manager"))[0]
    page = new_page()
    log_in(page, "village_dispatcher")
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    page.wait_for_selector("#routing-panel form.suggestion")
    first = page.locator("#routing-panel form.suggestion").first
    assert "暴露垃圾" in first.text_content() and "城市管理和综合执法局" in first.text_content()
    first.locator("button").click()
    page.wait_for_selector('#case-body[data-status="handling"]')  # one click: registered and dispatched
    page.wait_for_selector("#routing-panel", state="attached")
    assert page.locator("#routing-panel form.suggestion").count() == 0  # dispatched: no more suggestions
    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.HANDLING and case.category.name == "暴露垃圾"
    assert list(case.assignments.values_list("department__code", flat=True)) == ["city_management"]
    page.screenshot(path="docs/screenshots/routing-case.png", full_page=True)


def test_the_call_taker_sees_suggestions_while_typing(new_page):
    page = new_page()
    log_in(page, "hotline")
    page.goto(f"{page.base_url}/hotline/")
    page.fill("#id_description", "楼道里好多电动车在充电，电线从窗户拉出来的")
    page.wait_for_selector("#route-suggest button.chip")
    chip = page.locator("#route-suggest button.chip").first
    assert "消防安全隐患" in chip.text_content()
    chip.click()
    assert page.eval_on_selector("select[name=matter_item]", "s => s.value") == "fire_safety"
