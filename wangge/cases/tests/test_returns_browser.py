"""The dispatcher's decision on a return, in headless Chromium: the fire department returns a case,
the village dispatcher sees the return with its reason on the case page, tries to overrule it
without saying why (refused, nothing changes), then overrules it with a note — swapped in place by
htmx, no reload — and the department finds the case back in its bell."""

import pytest

from wangge.accounts.models import User
from wangge.browser_testing import log_in
from wangge.cases import actions
from wangge.cases.models import AssignmentStatus, Case, ReturnDecision

from .conftest import point_in

pytestmark = pytest.mark.browser


def _returned_case() -> Case:
    lat, lng = point_in("441900122002001")
    report = actions.Report(description="楼道堆放杂物", channel="grid_manager", lat=lat, lng=lng)
    case = actions.report_case(report, User.objects.get(username="grid_manager"))[0]
    dispatcher, handler = User.objects.get(username="village_dispatcher"), User.objects.get(username="fire_handler")
    case = actions.transition(case, dispatcher, "dispatch", version=case.version, departments=["fire"])
    return actions.transition(case, handler, "return", version=case.version, note="不属于消防职责")


def test_a_dispatcher_overrules_a_return_on_the_case_page(new_page):
    case = _returned_case()
    assignment = case.assignments.get()
    deadline = assignment.deadline
    page = new_page()
    log_in(page, "village_dispatcher")
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    form = f'form[data-action="decide_return"][data-assignment="{assignment.pk}"]'
    page.wait_for_selector(form)
    assert "不属于消防职责" in page.text_content(form) and "消防" in page.text_content(form)
    page.click(f'{form} button[value="0"]')  # 不予认可, without a note
    page.wait_for_selector("#case-body .message.error")
    assert page.locator('#case-body[data-status="registered"]').count() == 1
    page.fill(f"{form} textarea[name=note]", "楼道属消防通道，应由消防处置")
    page.click(f'{form} button:has-text("不予认可")')
    page.wait_for_selector('#case-body[data-status="handling"]')  # swapped in place
    assert page.locator(form).count() == 0
    assert page.locator('.return-decision[data-decision="overruled"]').count() == 1
    assert "退回不予认可" in page.text_content("#case-body")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PENDING and assignment.deadline == deadline
    assert assignment.return_decision == ReturnDecision.OVERRULED

    handler = new_page()
    log_in(handler, "fire_handler")
    handler.click(".bell")
    handler.wait_for_selector(f"ul.notifications li:has-text('{case.number}')")
    handler.goto(f"{handler.base_url}/cases/{case.pk}/")
    handler.wait_for_selector("form[data-action=accept]")  # the department's again
