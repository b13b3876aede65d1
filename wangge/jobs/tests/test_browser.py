"""In headless Chromium: a grid manager uploads a file with a bad row, sees the row's error (line,
column, reason), fixes the file, imports it, and finds the rows in the register's list."""

import pytest

from wangge.areas.models import Area
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.registry.models import StandardAddress

from .conftest import csv_bytes

pytestmark = pytest.mark.browser

HEADER = ["地址编码", "路街巷", "门牌号", "纬度", "经度"]


def test_upload_with_an_error_fix_and_import(page, tmp_path):
    own = Area.objects.get(code="441900122002001")
    other = Area.objects.get(code="441900122003001")  # the next village: not this grid manager's
    rows = [
        ["BRW001", "浏览器路", "1号", own.centroid_lat, own.centroid_lng],
        ["BRW002", "浏览器路", "2号", other.centroid_lat, other.centroid_lng],
    ]
    bad = tmp_path / "addresses.csv"
    bad.write_bytes(csv_bytes([HEADER, *rows], encoding="gbk"))
    log_in(page, "grid_manager")
    page.goto(page.base_url + "/registry/addresses/")
    page.click("a.import-button")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#check-file")
    page.wait_for_selector("#row-errors")
    error_row = page.locator("#row-errors tbody tr").first
    assert error_row.locator("td").nth(0).text_content() == "3"
    assert error_row.locator("td").nth(1).text_content() == "纬度"
    assert page.locator("#confirm-import").count() == 0  # all or nothing: no import of a bad file
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import-check-errors.png"), full_page=True)
    assert not StandardAddress.objects.filter(code__startswith="BRW").exists()

    rows[1][3], rows[1][4] = own.centroid_lat + 0.0001, own.centroid_lng  # fixed: a point in the grid
    fixed = tmp_path / "addresses-fixed.csv"
    fixed.write_bytes(csv_bytes([HEADER, *rows]))
    page.click("text=上传其他文件")
    page.set_input_files("input[name=file]", str(fixed))
    page.click("#check-file")
    page.wait_for_selector("#confirm-import")
    assert page.locator("#row-errors").count() == 0
    assert "浏览器路" in page.locator("#preview").text_content()
    page.click("#confirm-import")
    page.wait_for_selector("#see-rows")
    assert "100%" in page.locator(".progress-text").text_content()
    page.click("#see-rows")
    page.fill("input[name=q]", "浏览器路")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("table.addresses >> text=BRW002")
    assert page.locator("table.addresses tbody tr").count() == 2
    assert set(StandardAddress.objects.filter(code__startswith="BRW").values_list("area__code", flat=True)) == {
        own.code
    }
