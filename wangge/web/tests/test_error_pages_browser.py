"""An error page in a browser: a signed-in dispatcher follows a stale link from a page of the site,
gets the 404 page in the site's layout and in Chinese, and goes back to the page they came from."""

import pytest

from wangge.browser_testing import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


def test_a_stale_link_shows_the_404_page_and_leads_back(page, settings):
    settings.DEBUG = False
    log_in(page, "town_dispatcher")
    page.goto(page.base_url + "/areas/")
    page.evaluate("location.href = '/cases/no-such-page/'")  # a link from this page: it sends the Referer
    page.wait_for_selector(".error-page")
    assert page.locator("h1").inner_text() == "找不到该页面"
    assert page.locator(".mainnav").is_visible()  # the site's layout, with the user's menu
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "error-404.png"))
    page.click("a[data-way=back]")
    page.wait_for_url(page.base_url + "/areas/")
    page.go_back()
    page.click("a[data-way=home]")
    page.wait_for_url(page.base_url + "/")
