"""A grid manager's case actions on the phone without a signal: a verification and an on-site
handling with a photo wait in the outbox (local time, said in words), and reach the server exactly
once when the signal returns; a case someone else changed meanwhile is a clear, final refusal."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wangge.browser_testing import SCREENSHOTS
from wangge.cases import actions
from wangge.cases.models import CaseEvent, CasePhoto, Status
from wangge.cases.photos import store_photo
from wangge.cases.tests.conftest import VILLAGE_A_GRID, act, jpeg_bytes, point_in

from .conftest import open_field_app

pytestmark = pytest.mark.browser


def report(user, description, *, photo=False):
    lat, lng = point_in(VILLAGE_A_GRID)
    reporter = user("grid_manager")
    photo_ids = (
        [store_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"), user=reporter).pk] if photo else []
    )
    case, _created = actions.report_case(
        actions.Report(description=description, channel="grid_manager", lat=lat, lng=lng, photo_ids=photo_ids), reporter
    )
    return case


def fed_back(user, description):
    """A case the fire department reports as done: it waits for the grid manager's verification."""
    case = report(user, description, photo=True)
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "feedback", note="杂物已清走")
    case.refresh_from_db()
    assert case.status == Status.VERIFYING
    return case


def cases_kept(page):
    page.wait_for_function(
        "() => caches.open('wangge-data-grid_manager').then(c => c.match('/api/v1/patrol/cases')).then(Boolean)",
        polling=200,
        timeout=30000,  # fetched ahead after the tasks; slow on a busy machine
    )


def wait_outbox(page, count):
    page.wait_for_function(f"() => document.querySelector('#outbox-count').textContent === '{count}'", timeout=30000)


def shanghai_clock_now():
    """The minutes the phone may show for an item made now (a minute either way)."""
    now = timezone.localtime()
    return {(now + timedelta(minutes=d)).strftime("%H:%M") for d in (-1, 0, 1)}


def test_verify_and_handle_offline_then_each_sent_once(new_page, user):
    to_verify = fed_back(user, "消防通道被杂物堵塞")
    to_handle = report(user, "井盖松动，有异响", photo=True)
    page = open_field_app(new_page, user, wait_for_tasks=False)
    cases_kept(page)
    page.click("a.tile[href='#cases']")
    page.wait_for_selector('#page-cases[data-ready="1"]')
    assert "消防通道被杂物堵塞" in page.inner_text("#cases-verify")
    assert "井盖松动，有异响" in page.inner_text("#cases-handle")
    # The photos' thumbnails, from the phone's copy (they show offline too).
    page.wait_for_function("() => document.querySelectorAll('#cases-verify img.thumb[src^=\"blob:\"]').length > 0")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "field-app-cases.png"), full_page=True)

    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    page.reload()  # the list comes from the phone's copy
    page.wait_for_selector('#page-cases[data-ready="1"]')
    page.click(f"#cases-verify a[href='#case/{to_verify.pk}']")
    page.wait_for_selector('#page-case[data-ready="1"]')
    assert "杂物已清走" in page.inner_text("#case-detail")  # what the department reported
    assert page.is_hidden("button[data-action=handle_on_site]")
    page.screenshot(path=str(SCREENSHOTS / "field-app-case-verify.png"), full_page=True)
    page.click("button[data-action=verify_pass]")
    page.wait_for_selector("#case-done:not([hidden])")
    assert "有信号时自动发送" in page.inner_text("#case-done")
    wait_outbox(page, 1)

    page.goto(page.base_url + f"/patrol/m/#case/{to_handle.pk}")
    page.wait_for_selector('#page-case[data-ready="1"]')
    page.click("button[data-action=handle_on_site]")  # no photo yet: refused on the phone
    assert "照片" in page.inner_text("#case-error")
    page.fill("#case-form textarea[name=note]", "已现场紧固井盖")
    page.set_input_files(
        "#case-form input[name=photo]", files=[{"name": "fix.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    page.click("button[data-action=handle_on_site]")
    page.wait_for_selector("#case-done:not([hidden])")
    wait_outbox(page, 2)

    page.click("a.outbox")
    outbox = page.inner_text("#outbox")
    assert f"案件 {to_verify.number}：核查通过" in outbox
    assert f"案件 {to_handle.number}：现场处置" in outbox and "附照片 1 张" in outbox
    times = page.eval_on_selector_all("#outbox time", "nodes => nodes.map(n => n.textContent)")
    assert len(times) == 2 and all(t in shanghai_clock_now() for t in times), times
    assert not re.search(r"\d{4}-\d\d-\d\dT|Z\b|verify_pass|handle_on_site", outbox)
    page.screenshot(path=str(SCREENSHOTS / "field-app-outbox-case-actions.png"), full_page=True)
    assert not CaseEvent.objects.filter(action__in=["verify_pass", "handle_on_site"]).exists()

    page.context.set_offline(False)
    wait_outbox(page, 0)
    page.click("#sync-now")  # sending again finds nothing left
    page.wait_for_timeout(500)
    to_verify.refresh_from_db()
    to_handle.refresh_from_db()
    assert to_verify.status == Status.CLOSED and to_handle.status == Status.CLOSED and to_handle.handled_on_site
    assert CaseEvent.objects.filter(case=to_verify, action="verify_pass").count() == 1
    handled = CaseEvent.objects.get(case=to_handle, action="handle_on_site")
    assert handled.note == "已现场紧固井盖" and CasePhoto.objects.filter(event=handled).count() == 1


def test_a_case_changed_meanwhile_is_refused_once_and_said_clearly(new_page, user):
    case = fed_back(user, "路灯不亮")
    page = open_field_app(new_page, user, wait_for_tasks=False)
    cases_kept(page)
    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    page.goto(page.base_url + f"/patrol/m/#case/{case.pk}")
    page.wait_for_selector('#page-case[data-ready="1"]')
    page.fill("#case-form textarea[name=note]", "灯仍不亮")
    page.click("button[data-action=verify_fail]")
    wait_outbox(page, 1)
    # Meanwhile the dispatcher closes the case.
    act(case, "village_dispatcher", "close", outcome="cannot_fix", note="线路改造，暂无法修复")

    transitions = []
    page.on("request", lambda r: transitions.append(r.url) if r.url.endswith("/transitions") else None)
    page.context.set_offline(False)
    page.click("a.outbox")
    page.wait_for_selector("#outbox li.error .reason", timeout=30000)
    reason = page.inner_text("#outbox li.error")
    assert f"案件 {case.number}：核查不通过" in reason
    assert "未被受理：您离线期间此案件已被他人处理（现为「已结案」），您的操作未生效。" in reason
    page.screenshot(path=str(SCREENSHOTS / "field-app-outbox-conflict.png"), full_page=True)
    page.click("#sync-now")  # not retried: the refusal is final
    page.wait_for_timeout(500)
    assert len(transitions) == 1
    assert not CaseEvent.objects.filter(case=case, action="verify_fail").exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#outbox button.discard")
    wait_outbox(page, 0)
