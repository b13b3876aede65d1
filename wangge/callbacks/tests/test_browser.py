"""A callback in headless Chromium: the town dispatcher opens the queue, the citizen's case is there
with the number masked, shows the number in full (with a reason), records "reached, not resolved,
2 of 5" and reopens the case with the citizen's words; the case's timeline shows the callback."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.callbacks.models import CallbackTask, State
from wangge.cases.models import Case, Status
from wangge.privacy.models import PersonalDataAccess

from .conftest import citizen_case, closed

pytestmark = pytest.mark.browser


def test_a_callback_reopens_a_case_that_is_not_resolved(new_page):
    case = closed(citizen_case(description="小区门口路灯不亮"))
    task = CallbackTask.objects.get(case=case)
    page = new_page()
    log_in(page, "town_dispatcher")
    page.click("nav.mainnav a:has-text('回访')")
    page.wait_for_selector(f"#callback-queue tr[data-callback='{task.pk}']")
    assert "小区门口路灯不亮" in page.text_content("#callback-queue")
    page.click(f"#callback-queue tr[data-callback='{task.pk}'] a")
    page.wait_for_selector("#callback-form")
    assert "138****8000" in page.text_content("#callback-phone")
    page.screenshot(path=str(SCREENSHOTS / "callbacks.png"), full_page=True)
    # Show the number in full: a reason is asked, and the access is logged.
    page.click("#callback-phone summary")
    page.fill("#callback-phone input[name=reason]", "回访市民")
    page.click("#callback-phone button[type=submit]")
    page.wait_for_selector("#callback-phone :text('13800138000')")
    assert PersonalDataAccess.objects.filter(field="reporter_phone", reason="回访市民").count() == 1
    # Reached, not resolved: reopen with the citizen's words.
    page.check("input[name=reached][value=yes]")
    page.check("input[name=resolved][value=no]")
    page.select_option("select[name=satisfaction]", "2")
    page.fill("textarea[name=note]", "路灯还是不亮")
    page.click("#callback-reopen")
    page.wait_for_selector(".message:has-text('案件已重新处理')")
    task.refresh_from_db()
    case = Case.objects.get(pk=case.pk)
    assert task.state == State.DONE and task.reopened and case.status == Status.REGISTERED
    assert page.locator(f"#callback-queue tr[data-callback='{task.pk}']").count() == 0
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    timeline = page.text_content(".timeline")
    assert "回访" in timeline and "路灯还是不亮" in timeline and "未解决" in timeline
