"""The command center in headless Chromium: a new case appears live on the map and in the board
and is dispatched from the map; a village dispatcher never sees the next village's cases; the
dashboard and the big screen render (screenshots in docs/screenshots)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.accounts.models import User
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases import actions
from wangge.cases.models import Case
from wangge.insight import facts

from .conftest import VILLAGE_B_GRID, point_in

pytestmark = pytest.mark.browser


def report(username, grid, matter_item="fire_exit", description="消防通道被杂物堵塞", offset=0.0):
    lat, lng = point_in(grid)
    channel = "grid_manager" if username.startswith("grid_manager") else "api"  # cases.channels
    r = actions.Report(description=description, channel=channel, lat=lat + offset, lng=lng, matter_item=matter_item)
    return actions.report_case(r, User.objects.get(username=username))[0]


def test_a_new_case_appears_live_and_is_dispatched_from_the_map(page):
    log_in(page, "village_dispatcher")
    page.goto(page.base_url + "/command/")
    page.wait_for_selector("#command-map[data-loaded]")
    page.wait_for_selector("#live-state.on")
    case = report("grid_manager", "441900122002001")
    page.wait_for_selector(f'.case-dot[data-id="{case.pk}"]', timeout=15000)  # no reload
    page.wait_for_selector(f'ul.board li[data-case-id="{case.pk}"]')
    page.click(f'.case-dot[data-id="{case.pk}"]')
    page.wait_for_selector(f'#panel-body[data-case-id="{case.pk}"]')
    assert "消防" in page.text_content("#suggested")
    page.screenshot(path=str(SCREENSHOTS / "command-map.png"))
    page.click('form[data-action="dispatch-suggested"] button')
    page.wait_for_selector('#panel-body[data-status="handling"]')
    case.refresh_from_db()
    assert case.status == "handling" and case.assignments.get().department.code == "fire"
    page.wait_for_selector(f'.case-dot[data-id="{case.pk}"][data-status="handling"]', timeout=15000)


def test_a_village_dispatcher_sees_only_their_village(page):
    mine = report("grid_manager", "441900122002001", description="本村案件")
    theirs = report("grid_manager2", VILLAGE_B_GRID, description="邻村案件")
    facts.refresh_all()
    log_in(page, "village_dispatcher")
    page.goto(page.base_url + "/command/")
    has_marker = "id => window.wanggeCommand && window.wanggeCommand.markers.has(id)"
    page.wait_for_function(has_marker, arg=mine.pk)
    later = report("grid_manager2", VILLAGE_B_GRID, description="邻村新案件")
    own_later = report("grid_manager", "441900122002001", description="本村新案件")
    page.wait_for_function(has_marker, arg=own_later.pk, timeout=15000)  # live, clustered with `mine`
    page.wait_for_selector(f'ul.board li[data-case-id="{own_later.pk}"]')
    for other in (theirs, later):
        assert not page.evaluate(has_marker, other.pk)
        assert page.locator(f'ul.board li[data-case-id="{other.pk}"]').count() == 0
    page.goto(page.base_url + "/stats/?period=30d")
    page.wait_for_selector("#chart-daily[data-ready]")
    body = page.text_content("body")
    assert theirs.number not in body and "441900122003" not in page.content()
    assert page.text_content('[data-kpi="total"] b').strip() == "1"
    assert page.goto(page.base_url + "/stats/?area=441900122003").status == 404


def test_dashboard_and_big_screen(new_page):
    grids = ["441900122002001", "441900122002002", "441900122003001", "441900122003002", "441900122002003"]
    items = ["fire_exit", "street_vendor", "rental_safety"]
    made = []
    for i in range(24):
        made.append(report("city_dispatcher", grids[i % len(grids)], items[i % 3], f"演示案件 {i}", i * 1e-4))
    for i, case in enumerate(made):
        Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=i % 9, hours=1))
    for case in made[::3]:
        actions.transition(
            case.pk, User.objects.get(username="town_dispatcher"), "dispatch", version=1, departments=["fire"]
        )
    dispatcher = User.objects.get(username="town_dispatcher")
    for i, case in enumerate(made[1::3]):
        outcome = "not_responsible" if i % 2 else "cannot_fix"
        actions.transition(case.pk, dispatcher, "close", version=1, outcome=outcome, note="已处理")
        Case.objects.filter(pk=case.pk).update(satisfaction=3 + i % 3)
    Case.objects.filter(pk__in=[c.pk for c in made[::5]]).update(is_overdue=True)
    facts.refresh_all()
    page = new_page({"width": 1400, "height": 1500})
    log_in(page, "town_dispatcher")
    page.goto(page.base_url + "/stats/?period=30d")
    page.wait_for_selector("#chart-categories[data-ready]")
    assert page.text_content('[data-kpi="total"] b').strip() == "24"
    page.wait_for_timeout(600)  # chart animations
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    with page.expect_download() as download:
        page.click('a[data-export="areas"]')
    assert download.value.suggested_filename.startswith("areas-441900122-")
    page.click("#table-areas tbody tr:first-child td:nth-child(2) a")
    page.wait_for_url("**/cases/?**")
    screen = new_page({"width": 1920, "height": 1080})
    log_in(screen, "town_dispatcher")
    screen.goto(screen.base_url + "/command/screen/")
    screen.wait_for_selector("#screen[data-loaded]")
    screen.wait_for_selector("#screen-map[data-loaded]")
    assert screen.text_content("#k-month-total").strip() == str(
        sum(
            1
            for c in made
            if timezone.localdate(Case.objects.get(pk=c.pk).created_at).month == timezone.localdate().month
        )
    )
    new = report("grid_manager", "441900122002001", description="大屏实时")
    screen.wait_for_selector("#ticker li", timeout=15000)
    assert new.number in screen.text_content("#ticker")
    screen.wait_for_timeout(600)
    screen.screenshot(path=str(SCREENSHOTS / "big-screen.png"))


def test_heat_map_layer_toggles_and_filters(page):
    spread = [0, 2e-4, 4e-4, 6e-4, 3e-3, 3.2e-3, -4e-3]
    mine = [report("grid_manager", "441900122002001", offset=o) for o in spread]
    report("grid_manager2", VILLAGE_B_GRID, description="邻村案件")
    log_in(page, "village_dispatcher")
    page.goto(page.base_url + "/command/")
    page.wait_for_selector("#command-map[data-loaded]")
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 0  # off until toggled
    page.evaluate("window.wanggeCommand.map.setZoom(17, {animate: false})")  # toggles at any zoom
    label = page.get_attribute("#command-map", "data-label-heat")
    page.locator(".leaflet-control-layers-overlays label", has_text=label).click()
    page.wait_for_selector("#command-map[data-heat-count]")
    assert page.get_attribute("#command-map", "data-heat-count") == str(len(mine))  # not the next village's
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1 and page.is_visible("#heat-filters")
    page.evaluate(
        "([lat, lng]) => window.wanggeCommand.map.setView([lat, lng], 15, {animate: false})", [mine[0].lat, mine[0].lng]
    )
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / "command-heat-map.png"))
    other = page.eval_on_selector(
        '#heat-filters select[name="category"]',
        "(s, mine) => [...s.options].map((o) => o.value).find((v) => v && !v.endsWith(':' + mine))",
        mine[0].category.parent.code if mine[0].category.parent_id else mine[0].category.code,
    )
    page.select_option('#heat-filters select[name="category"]', other)
    page.wait_for_selector('#command-map[data-heat-count="0"]')
    page.select_option('#heat-filters select[name="category"]', "")
    page.wait_for_selector(f'#command-map[data-heat-count="{len(mine)}"]')
    page.locator(".leaflet-control-layers-overlays label", has_text=label).click()
    page.wait_for_selector("canvas.leaflet-heatmap-layer", state="detached")
    assert not page.is_visible("#heat-filters")


def test_merge_a_duplicate_from_the_board(page):
    first = report("grid_manager", "441900122002001", description="消防通道被杂物堵塞")
    second = report("grid_manager", "441900122002001", description="又见消防通道堵塞", offset=1e-5)
    assert second.duplicate_of_id == first.pk
    log_in(page, "village_dispatcher")
    page.goto(page.base_url + "/command/")
    page.wait_for_selector("#command-map[data-loaded]")
    row = f'ul.board li[data-case-id="{second.pk}"]'
    assert page.locator(f"{row} .badge.duplicate").count() == 1
    assert page.locator(f'ul.board li[data-case-id="{first.pk}"] .badge.duplicate').count() == 0
    page.click(row)
    page.wait_for_selector(f'#panel-body[data-case-id="{second.pk}"]')
    assert page.get_attribute("#duplicate", "data-duplicate-of") == str(first.pk)
    assert first.number in page.text_content("#duplicate")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click('form[data-action="merge-duplicate"] button')
    page.wait_for_selector('#panel-body[data-status="merged"]')
    page.wait_for_selector(row, state="detached")  # the board refreshed: the duplicate has left the queue
    second.refresh_from_db()
    assert second.status == "merged" and second.merged_into_id == first.pk
    assert page.locator(f'ul.board li[data-case-id="{first.pk}"]').count() == 1
