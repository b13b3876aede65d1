"""Two-step verification (TOTP, django-otp): enrolment, login with the code, required roles sent
to enrol, tokens for them, unlocking with the code; the production switch."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp import models as totp_models
from django_otp.plugins.otp_totp.models import TOTPDevice

from wangge.accounts.models import LoginFailure, User
from wangge.history.models import ChangeRecord

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings, demo_password):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = list(User.objects.all())
    for user in users:
        user.set_password(demo_password)
    User.objects.bulk_update(users, ["password"])


class Codes:
    """The authenticator app, with the server's clock held still: code(k) is the code k steps
    (30 s) from now, so each use is a fresh code and no test waits for the next step."""

    def __init__(self, monkeypatch):
        self.now = 1_900_000_000.0
        monkeypatch.setattr(totp_models, "time", SimpleNamespace(time=lambda: self.now))
        self.steps = {}

    def next(self, device) -> str:
        step = self.steps.get(device.pk, 0)
        self.steps[device.pk] = step + 1
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
        totp.time = self.now + 30 * step
        return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def codes(monkeypatch):
    return Codes(monkeypatch)


def enrolled(username) -> TOTPDevice:
    return TOTPDevice.objects.create(user=User.objects.get(username=username), name="TOTP", confirmed=True)


def wait_out_code_throttle(device):
    """django-otp slows a device down after a wrong code (1 s, 2 s …): as if that time had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=10))


def test_enrol_then_log_in_with_the_code(client_as, demo_password, codes):
    from wangge.accounts.actions import issue_token

    before = issue_token(User.objects.get(username="citizen"))  # obtained with the password alone
    client = client_as("citizen")
    page = client.get("/profile/two-factor/")
    assert page.status_code == 200 and "两步验证" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="citizen", confirmed=False)
    assert page.context["secret"].replace(" ", "") in device.config_url
    qr = client.get("/profile/two-factor/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    wrong = client.post("/profile/two-factor/", {"code": "000000"})
    assert "验证码错误" in wrong.content.decode()
    wait_out_code_throttle(device)
    assert client.post("/profile/two-factor/", {"code": codes.next(device)})["Location"] == "/profile/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/profile/two-factor/qr.svg").status_code == 404  # the key is shown only once
    assert ChangeRecord.objects.filter(object_id=str(device.user_id), after={"2fa": "on"}).exists()
    stale = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {before}"})
    assert stale.status_code == 401  # a token from before enrolment no longer opens the account

    browser = Client()
    step = browser.post("/login/?next=/cases/", {"username": "citizen", "password": demo_password})
    assert step["Location"] == "/login/code/?next=%2Fcases%2F"
    assert "_auth_user_id" not in browser.session  # the password alone does not log in
    wrong = browser.post(step["Location"], {"code": "123456"})
    assert wrong.status_code == 200 and "验证码错误" in wrong.content.decode()
    assert "_auth_user_id" not in browser.session
    wait_out_code_throttle(device)
    done = browser.post(step["Location"], {"code": codes.next(device)})
    assert done["Location"] == "/cases/" and browser.session["otp_device_id"] == device.persistent_id
    assert browser.get("/").status_code == 200

    # The API token asks for the code too.
    api = Client()
    body = {"username": "citizen", "password": demo_password}
    missing = api.post("/api/v1/auth/token", body, "application/json")
    assert missing.status_code == 401 and missing.json()["otp_required"] and "6 位验证码" in missing.json()["detail"]
    assert api.post("/api/v1/auth/token", {**body, "otp": "999999"}, "application/json").status_code == 401
    wait_out_code_throttle(device)
    assert api.post("/api/v1/auth/token", {**body, "otp": codes.next(device)}, "application/json").status_code == 200

    # Optional for a citizen: turned off with a current code.
    assert browser.post("/profile/two-factor/", {"code": codes.next(device)})["Location"] == "/profile/"
    assert not TOTPDevice.objects.filter(user__username="citizen").exists()


def test_a_required_role_without_enrolment_is_sent_to_enrol(settings, demo_password, codes):
    settings.REQUIRE_2FA = True
    client = Client()
    assert client.post("/login/", {"username": "town_dispatcher", "password": demo_password})["Location"] == "/"
    assert client.get("/")["Location"] == "/profile/two-factor/?next=%2F"
    assert client.get("/cases/")["Location"] == "/profile/two-factor/?next=%2Fcases%2F"
    refused = client.get("/api/v1/me")
    assert refused.status_code == 403 and "两步验证" in refused.json()["detail"]
    page = client.get("/profile/two-factor/?next=/cases/")
    assert page.status_code == 200 and "设置完成后才能继续使用" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="town_dispatcher", confirmed=False)
    done = client.post("/profile/two-factor/", {"code": codes.next(device), "next": "/cases/"})
    assert done["Location"] == "/cases/"
    assert client.get("/").status_code == 200  # enrolled and verified in this session
    # It cannot be turned off by its owner while the role needs it.
    device.refresh_from_db()
    kept = client.post("/profile/two-factor/", {"code": codes.next(device)})
    assert "不能关闭" in kept.content.decode() and TOTPDevice.objects.filter(pk=device.pk).exists()

    # Others are not asked.
    citizen = Client()
    citizen.post("/login/", {"username": "citizen", "password": demo_password})
    assert citizen.get("/").status_code == 200

    # A token for a required role needs enrolment first, then the code.
    body = {"username": "leader", "password": demo_password}
    first = Client().post("/api/v1/auth/token", body, "application/json")
    assert first.status_code == 403 and first.json()["enrol"]
    leader_device = enrolled("leader")
    assert Client().post("/api/v1/auth/token", body, "application/json").status_code == 401
    ok = Client().post("/api/v1/auth/token", {**body, "otp": codes.next(leader_device)}, "application/json")
    assert ok.status_code == 200


def test_the_admin_site_needs_the_second_factor_too(settings, client_as):
    settings.REQUIRE_2FA = True
    assert client_as("admin").get("/admin/")["Location"] == "/profile/two-factor/?next=%2Fadmin%2F"


def test_a_session_that_skipped_the_code_is_logged_out(client_as):
    enrolled("grid_manager")
    client = client_as("grid_manager")  # a session begun without the code (e.g. before enrolment)
    response = client.get("/cases/")
    assert response["Location"] == "/login/?next=%2Fcases%2F" and "_auth_user_id" not in client.session


def test_a_locked_user_unlocks_with_the_code(demo_password, codes):
    device = enrolled("grid_manager2")
    client = Client(REMOTE_ADDR="203.0.113.70")
    for _ in range(6):
        client.post("/login/", {"username": "grid_manager2", "password": "bad"})
    assert client.post("/login/", {"username": "grid_manager2", "password": demo_password}).status_code == 200
    wrong = client.post("/login/unlock/", {"username": "grid_manager2", "code": "000000"})
    assert "验证码错误" in wrong.content.decode()
    assert "验证码错误" in client.post("/login/unlock/", {"username": "nobody", "code": "000000"}).content.decode()
    wait_out_code_throttle(device)
    unlocked = client.post("/login/unlock/", {"username": "grid_manager2", "code": codes.next(device)})
    assert unlocked["Location"] == "/login/"
    step = client.post("/login/", {"username": "grid_manager2", "password": demo_password})
    assert step["Location"].startswith("/login/code/")

    # Through the API: a right code lifts the lock and gives the token at once.
    api = Client(REMOTE_ADDR="203.0.113.71")
    body = {"username": "grid_manager2", "password": "bad"}
    for _ in range(6):
        api.post("/api/v1/auth/token", body, "application/json")
    body["password"] = demo_password
    assert api.post("/api/v1/auth/token", body, "application/json").status_code == 429
    ok = api.post("/api/v1/auth/token", {**body, "otp": codes.next(device)}, "application/json")
    assert ok.status_code == 200


def test_staff_sessions_are_shorter(settings, demo_password):
    settings.STAFF_SESSION_SECONDS = 8 * 3600
    staff, citizen = Client(), Client()
    staff.post("/login/", {"username": "town_dispatcher", "password": demo_password})
    citizen.post("/login/", {"username": "citizen", "password": demo_password})
    assert staff.session.get_expiry_age() == 8 * 3600
    assert citizen.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


PROBE = """
import json, django
from django.conf import settings
django.setup()
names = ["SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE",
         "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "REQUIRE_2FA",
         "STAFF_SESSION_SECONDS", "LANGUAGE_COOKIE_SECURE"]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


def probe_settings(tmp_path, **env):
    environment = {**os.environ, "WANGGE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "wangge.settings", **env}
    for name in ("WANGGE_PRODUCTION", "WANGGE_TRUSTED_PROXIES", "WANGGE_REQUIRE_2FA"):
        if name not in env:
            environment.pop(name, None)
    out = subprocess.run([sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=False)
def test_one_switch_for_production(tmp_path):
    plain = probe_settings(tmp_path)
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["REQUIRE_2FA"] and plain["SECURE_HSTS_SECONDS"] == 0
    prod = probe_settings(tmp_path, WANGGE_PRODUCTION="1")
    assert prod["SESSION_COOKIE_SECURE"] and prod["CSRF_COOKIE_SECURE"] and prod["LANGUAGE_COOKIE_SECURE"]
    assert prod["SESSION_COOKIE_HTTPONLY"] and prod["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod["SECURE_HSTS_SECONDS"] >= 31536000 and prod["REQUIRE_2FA"] and prod["STAFF_SESSION_SECONDS"] == 28800
    assert prod["SECURE_PROXY_SSL_HEADER"] is None  # no trusted proxy: nobody's X-Forwarded-Proto is believed
    behind = probe_settings(tmp_path, WANGGE_PRODUCTION="1", WANGGE_TRUSTED_PROXIES="127.0.0.1")
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"] and behind["SECURE_SSL_REDIRECT"]
    assert probe_settings(tmp_path, WANGGE_REQUIRE_2FA="1")["REQUIRE_2FA"]


def test_administrators_see_authenticators_and_failed_logins_but_never_a_key(client_as):
    device = enrolled("citizen")
    LoginFailure.objects.create(username="citizen", ip="203.0.113.80")
    admin = client_as("admin")
    page = admin.get("/admin/otp_totp/totpdevice/")
    assert page.status_code == 200 and "身份验证器" in page.content.decode()
    detail = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page.content.decode() + detail and "config" not in detail
    assert "203.0.113.80" in admin.get("/admin/accounts/loginfailure/").content.decode()
    # A lost phone: the administrator deletes the device; the user enrols again.
    assert admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
