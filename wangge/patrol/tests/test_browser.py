"""A village dispatcher plays back their grid manager's morning in headless Chromium."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.patrol.models import TrackDay

pytestmark = pytest.mark.browser


def test_supervisor_plays_back_a_workers_day(page):
    track = TrackDay.objects.get(worker__username="grid_manager")  # the demo city's morning walk
    log_in(page, "village_dispatcher")
    page.click("nav.mainnav >> text=巡查走访")
    page.click("nav.tabs >> text=轨迹")
    # Before 09:00 (Shanghai) the demo's walk is yesterday's, while the list opens on today.
    page.goto(f"{page.base_url}/patrol/tracks/?day={track.day.isoformat()}")
    row = page.locator('tr[data-worker="grid_manager"]')
    assert row.locator("td").nth(2).inner_text() == str(track.point_count)
    assert page.locator('tr[data-worker="grid_manager2"]').count() == 0  # the next village's worker
    page.goto(f"{page.base_url}/patrol/tracks/grid_manager/{track.day.isoformat()}/")
    page.wait_for_function("() => document.querySelector('[data-figure=points]').textContent !== '…'")
    assert page.inner_text("[data-figure=points]") == str(track.point_count)
    assert page.locator("#trackmap path.leaflet-interactive").count() >= 2  # the grid and the track
    assert page.get_attribute("#track-time", "max") == str(track.point_count - 1)
    page.fill("#track-time", "10")
    page.dispatch_event("#track-time", "input")
    tenth = timezone.localtime(track.first_at + timedelta(seconds=10 * 30))  # the demo walk sends every 30 s
    assert page.inner_text("#track-at") == tenth.strftime("%H:%M:%S")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "track-playback.png"), full_page=True)
