"""The evaluation pages in headless Chromium: the ranking, a figure followed to its case list, then the
subject's page with its score chart — with no script error and no CSP violation on the way."""

import pytest
from django.utils import timezone

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.evaluation.tests.conftest import act

pytestmark = pytest.mark.browser


def test_ranking_figure_cases_and_subject_chart(page, new_case):
    for n in range(3):
        case = new_case()
        act(case, "village_dispatcher", "register")
        act(case, "village_dispatcher", "dispatch", departments=["fire"])
        if n:
            act(case, "fire_handler", "accept")
            act(case, "fire_handler", "feedback", note="已处理")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    log_in(page, "city_dispatcher")
    page.click('nav.mainnav a[href="/evaluation/"]')
    page.wait_for_selector("#type-tabs a.active[data-type='department']")
    day = timezone.localdate().isoformat()
    page.fill("#other-period-form input[name=period]", f"{day}~{day}")
    page.click("#other-period-form button[type=submit]")
    page.wait_for_selector("#report-state[data-state='live']")
    due = page.locator("#ranking-table tr[data-key='fire'] a.figure[href*='measure=due']").first
    assert due.text_content().strip() == "3"
    header = page.locator("#ranking-table th[data-indicator='dept_on_time_rate']")
    assert "按期处置率" in header.get_attribute("title")  # the definition on hover
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "evaluation-ranking.png"), full_page=True)

    due.click()
    page.wait_for_selector("#figure-cases")
    assert page.locator("#figure-cases tbody tr[data-case]").count() == 3
    assert page.get_attribute("#figure-count", "data-figure") == "3"

    page.click(".breadcrumb a[href^='/evaluation/subjects/']")
    page.wait_for_selector("#score-chart[data-ready]")
    assert page.locator("#score-chart canvas").count() >= 1
    assert page.locator("#subject-measures tr[data-measure='due'] a.figure").text_content().strip() == "3"
    page.wait_for_timeout(800)  # the chart's animation
    page.screenshot(path=str(SCREENSHOTS / "evaluation-subject.png"), full_page=True)
    assert not errors, errors
