"""The portal in headless Chromium: a citizen files a report and finds it in 我的反映 (and rates the
closed one); a landlord opens a rental house and records a tenant's move-out."""

import pytest

from wangge.areas.models import Area
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases.models import Case, Status
from wangge.demo_portal import seed_portal_demo
from wangge.registry.models import RentalHouse, Tenancy

pytestmark = pytest.mark.browser

STAFF_MENU = ["/cases/", "/registry/", "/areas/", "/jobs/", "/api/v1/docs"]


def _menu_links(page):
    return page.eval_on_selector_all("nav.mainnav a", "links => links.map(a => a.getAttribute('href'))")


def test_a_citizen_reports_and_follows_in_the_portal(new_page):
    seed_portal_demo(log=lambda line: None)
    page = new_page({"width": 412, "height": 900})  # a phone
    log_in(page, "citizen")
    page.goto(page.base_url + "/")
    page.wait_for_selector("#my-reports")
    assert not set(_menu_links(page)) & set(STAFF_MENU)
    page.click("nav.mainnav a[href='/me/report/']")
    page.wait_for_selector("#pickmap[data-loaded]")
    assert page.input_value("input[name=reporter_phone]")  # the account's phone, filled in
    page.fill("textarea[name=description]", "小区门口路灯不亮，晚上出行不安全")
    grid = Area.objects.get(code="441900122002001")
    page.evaluate(
        "([lat, lng]) => { document.querySelector('input[name=lat]').value = lat;"
        " document.querySelector('input[name=lng]').value = lng; }",
        [grid.centroid_lat, grid.centroid_lng],
    )
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("#tracking-number")
    case = Case.objects.get(description="小区门口路灯不亮，晚上出行不安全")
    assert case.reporter.username == "citizen"
    assert page.text_content("#tracking-number").strip() == case.tracking_number
    page.click("nav.mainnav a[href='/me/reports/']")
    page.wait_for_selector("table.my-reports")
    assert "小区门口路灯不亮" in page.text_content("table.my-reports")
    # The closed report: rate it once.
    closed = Case.objects.get(reporter=case.reporter, status=Status.CLOSED)
    page.click(f"tr[data-case='{closed.pk}'] td a")
    page.wait_for_selector("form.rate-form")
    page.select_option("select[name=satisfaction]", "5")
    page.click("form.rate-form button[type=submit]")
    page.wait_for_selector("#my-rating")
    assert page.text_content("#my-rating").strip() == "5 / 5"
    page.goto(page.base_url + "/")
    page.wait_for_selector("#my-reports")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "portal-citizen.png"), full_page=True)


def test_a_landlord_records_a_move_out_in_the_portal(new_page):
    seed_portal_demo(log=lambda line: None)
    page = new_page()
    log_in(page, "landlord")
    page.goto(page.base_url + "/")
    page.wait_for_selector("#my-rentals")
    assert not set(_menu_links(page)) & set(STAFF_MENU)
    assert "您的租户申报已确认" in page.text_content("#my-notices")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "portal-landlord.png"), full_page=True)
    house = RentalHouse.objects.get(landlord_user__username="landlord", building__name="湖景路18号出租楼")
    page.click(f"#my-rentals tr[data-rental='{house.pk}'] a")
    page.wait_for_selector("#rooms-and-tenants")
    tenancy = Tenancy.objects.filter(room__building=house.building, moved_out__isnull=True).first()
    row = page.locator(f".tenant[data-tenancy='{tenancy.pk}']")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".message.success")
    assert tenancy.person.name in page.text_content(".message.success")
    assert page.locator(f".tenant[data-tenancy='{tenancy.pk}']").count() == 0
    tenancy.refresh_from_db()
    assert tenancy.moved_out is not None
