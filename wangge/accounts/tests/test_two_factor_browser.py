"""Two-step verification end to end in Chromium: a dispatcher whose role needs it is sent to the
enrolment page, scans (reads) the key, confirms with a code, and from then on logs in with one."""

import time

import pytest
from django.test import override_settings
from django_otp.oath import TOTP

from wangge.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def code_for(secret: str, steps_ahead: int) -> str:
    from base64 import b32decode

    key = secret.replace(" ", "")
    key += "=" * (-len(key) % 8)
    totp = TOTP(b32decode(key), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def password_step(page, username):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")


@override_settings(REQUIRE_2FA=True)
def test_dispatcher_enrols_then_logs_in_with_a_code(page):
    password_step(page, "town_dispatcher")
    page.wait_for_selector("h1:has-text('两步验证')")  # sent to enrolment, nowhere else
    assert "/profile/two-factor/" in page.url
    # The QR code loads after the page: wait for it (a loaded machine is slow), then it must have a size.
    qr_loaded = "() => { const i = document.querySelector('img[src$=\"qr.svg\"]'); return i && i.complete; }"
    page.wait_for_function(qr_loaded)
    assert page.evaluate("document.querySelector('img[src$=\"qr.svg\"]').naturalWidth") > 0
    secret = page.text_content("#totp-secret")
    page.fill("input[name=code]", code_for(secret, 0))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=两步验证已启用")
    page.click("header button[type=submit]")  # log out
    page.wait_for_selector("input[name=password]")
    password_step(page, "town_dispatcher")
    page.wait_for_selector("h1:has-text('验证码')")
    page.fill("input[name=code]", "000000")
    page.click("main button[type=submit]")
    page.wait_for_selector(".errors:has-text('验证码错误')")
    time.sleep(1.1)  # django-otp's slow-down after a wrong code (1 s): a real browser, real time
    page.fill("input[name=code]", code_for(secret, 1))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=指挥中心")
    assert "/login/" not in page.url
