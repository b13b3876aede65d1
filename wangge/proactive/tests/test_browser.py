"""未诉先办 in headless Chromium: the village dispatcher opens the recurring spots, turns one into a
spot check for the grid manager, lands on the list of proactive work, and the spot then links to it."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.patrol.models import TargetKind
from wangge.proactive.models import ProactiveWork

pytestmark = pytest.mark.browser


def test_a_dispatcher_turns_a_spot_into_a_spot_check(new_page, spot):
    spot(3)
    page = new_page()
    log_in(page, "village_dispatcher")
    page.goto(f"{page.base_url}/command/spots/")
    page.click("#spots details.spot-act summary:has-text('转为主动办理')")
    page.check("#spots input[name=kind][value=task]")
    page.fill("#spots input[name=note]", "重点查看消防通道")
    page.click("#spots details.spot-act button[type=submit]")
    page.wait_for_selector(".message:has-text('已向网格员派发现场核查任务')")
    work = ProactiveWork.objects.get()
    assert work.task.target_kind == TargetKind.SPOT and "重点查看消防通道" in work.task.note
    row = page.text_content(f"#work-{work.pk}")
    assert "现场核查" in row
    page.screenshot(path=str(SCREENSHOTS / "proactive.png"), full_page=True)
    assert page.text_content("h1 small") == "竹溪社区"  # the dispatcher's village, as on the spots page
    page.click("a.button:has-text('高发点位')")
    page.wait_for_selector("#spots td.spot-work a:has-text('现场核查')")
    page.screenshot(path=str(SCREENSHOTS / "proactive-spots.png"), full_page=True)
    assert page.locator("#spots details.spot-act").count() == 0
