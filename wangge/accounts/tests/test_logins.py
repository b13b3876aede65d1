"""Logins (issue 13 item 4): every door throttled, the client's address behind the proxy, no
lock-out of the owner by strangers, unlock by code or administrator, no open redirect."""

from datetime import timedelta

import pytest
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from wangge.accounts import throttle
from wangge.accounts.models import LoginAddress, LoginFailure, User
from wangge.core.clientip import client_ip
from wangge.history.models import ChangeRecord
from wangge.watch.tests.test_watch import register, watch_list, watcher  # noqa: F401 (fixtures)

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def fast_hashing(request, settings, demo_password):
    """Argon2 costs a second a try on a busy machine, and these tests try a lot: a fast hash here
    (the rules are what is tested, not the hash)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        users = list(User.objects.all())
        for user in users:
            user.set_password(demo_password)
        User.objects.bulk_update(users, ["password"])


@pytest.fixture
def clock(monkeypatch):
    """clock.advance(seconds): the throttle's time moves on without sleeping."""

    class Clock:
        now = timezone.now()

        def advance(self, seconds):
            self.now += timedelta(seconds=seconds)

    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c


def via_proxy(client_address):
    """A client behind nginx: the connection is the proxy's, the client is in X-Forwarded-For."""
    return Client(REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": f"198.18.0.1, {client_address}"})


def api_login(client, username, password, **extra):
    return client.post("/api/v1/auth/token", {"username": username, "password": password, **extra}, "application/json")


def page_login(client, username, password, path="/login/"):
    client.post(path, {"username": username, "password": password})
    return "_auth_user_id" in client.session


# ------------------------------------------------------------------ the client's address


@override_settings(TRUSTED_PROXIES=["10.0.0.0/24", "fd00::/8"])
@pytest.mark.parametrize(
    "remote, forwarded, expected",
    [
        ("203.0.113.9", "1.1.1.1", "203.0.113.9"),  # not from the proxy: the header is anyone's forgery
        (PROXY, "", PROXY),  # the proxy itself, no header
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the left part was sent by the client
        (PROXY, "6.6.6.6, 198.51.100.7, 10.0.0.5", "198.51.100.7"),  # two proxies: right-most untrusted
        (PROXY, "198.51.100.7, not-an-address", PROXY),  # garbage: nothing left of it is believed
        (PROXY, "10.0.0.7, 10.0.0.5", "10.0.0.7"),  # all trusted: the farthest
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
        ("::ffff:10.0.0.2", "198.51.100.8", "198.51.100.8"),  # IPv4 seen through an IPv6 socket
    ],
)
def test_client_address_comes_from_the_trusted_proxys_header(remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_forwarded_proto_is_dropped_unless_the_proxy_sent_it():
    from wangge.core.middleware import TrustedProxyMiddleware

    seen = {}
    middleware = TrustedProxyMiddleware(lambda request: seen.update(request.META))
    middleware(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https"))
    assert "HTTP_X_FORWARDED_PROTO" not in seen
    middleware(RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https"))
    assert seen["HTTP_X_FORWARDED_PROTO"] == "https"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[PROXY])
def test_behind_the_proxy_one_guesser_does_not_lock_out_the_city(demo_password, clock):
    attacker = via_proxy("203.0.113.66")
    for i in range(40):
        assert api_login(attacker, f"someone{i}", "bad").status_code in (401, 429)
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"203.0.113.66"}
    assert api_login(attacker, "nobody-else", "bad").status_code == 429  # the guesser's address is held
    assert api_login(via_proxy("198.51.100.7"), "citizen", demo_password).status_code == 200
    assert page_login(via_proxy("198.51.100.8"), "grid_manager", demo_password)


# ------------------------------------------------------------------ every door, one throttle


def _admin_form_login(username, password, ip="203.0.113.30"):
    """Django's own admin login form (what /admin/login/ used): authenticate() is throttled too."""
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=ip)
    form = AdminAuthenticationForm(request, data={"username": username, "password": password})
    return form.is_valid(), form


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["web", "admin", "admin form", "api"])
def test_every_login_door_is_throttled(door, demo_password, clock):
    """30 wrong passwords, then the right one: refused at every door (the admin's let it in)."""
    client = Client(REMOTE_ADDR="203.0.113.30")

    def attempt(password):
        if door == "web":
            return page_login(client, "admin", password)
        if door == "admin":
            return page_login(client, "admin", password, path="/admin/login/?next=/admin/")
        if door == "admin form":
            return _admin_form_login("admin", password)[0]
        return api_login(client, "admin", password).status_code == 200

    for _ in range(30):
        assert not attempt("wrong")
        clock.advance(1)
    assert not attempt(demo_password)
    assert LoginFailure.objects.filter(username="admin").count() >= 5 or door == "admin"


@pytest.mark.django_db
def test_the_phone_app_logs_in_through_the_login_page():
    """The field app has no login of its own: it is the (throttled) login page."""
    assert Client().get("/patrol/m/")["Location"] == "/login/?next=/patrol/m/"


@pytest.mark.django_db
def test_the_admins_login_page_is_the_one_login_page(demo_password):
    client = Client()
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    client.post("/admin/login/", {"username": "admin", "password": demo_password})
    assert "_auth_user_id" not in client.session  # a POST there logs nobody in
    assert client.post(response["Location"], {"username": "admin", "password": demo_password}).status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 200


@pytest.mark.django_db
def test_locked_message_is_chinese_and_says_when(clock):
    client = Client(REMOTE_ADDR="203.0.113.31")
    for _ in range(5):
        api_login(client, "leader", "bad")
    refused = api_login(client, "leader", "bad")
    assert refused["Retry-After"] == "2"
    detail = refused.json()["detail"]
    assert "登录失败次数过多" in detail and "之后重试" in detail and "秒" in detail
    page = client.post("/login/", {"username": "leader", "password": "bad"}).content.decode()
    assert "登录失败次数过多" in page and "/login/unlock/?username=leader" in page


# ------------------------------------------------------------------ the rules


@pytest.mark.django_db
def test_the_wait_doubles_per_account_and_address_and_a_success_forgives(demo_password, clock):
    assert [throttle.pair_delay(n) for n in range(4, 9)] == [0, 2, 4, 8, 16]
    assert throttle.pair_delay(100) == 3600  # capped
    client = Client(REMOTE_ADDR="203.0.113.40")
    for _ in range(5):
        assert api_login(client, "leader", "bad").status_code == 401
    assert api_login(client, "leader", demo_password).status_code == 429  # even the right password
    clock.advance(2)
    assert api_login(client, "leader", "bad").status_code == 401  # a 6th try after 2 s
    clock.advance(3)
    assert api_login(client, "leader", "bad").status_code == 429  # now 4 s
    clock.advance(1)
    assert api_login(client, "leader", demo_password).status_code == 200
    assert not LoginFailure.objects.filter(username="leader", ip="203.0.113.40").exists()


@pytest.mark.django_db
def test_a_stranger_cannot_lock_the_owner_out_of_their_usual_address(demo_password, clock):
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert api_login(owner, "town_dispatcher", demo_password).status_code == 200  # the usual desk
    assert LoginAddress.objects.filter(username="town_dispatcher", ip="198.51.100.20").exists()
    # The same account guessed from its own pair: the stranger's address waits, the owner does not.
    stranger = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(5):
        api_login(stranger, "town_dispatcher", "bad")
    assert api_login(stranger, "town_dispatcher", demo_password).status_code == 429
    assert api_login(owner, "town_dispatcher", demo_password).status_code == 200
    # Distributed guessing: 20 addresses, a few tries each, stay under the pair rule ...
    for i in range(20):
        api_login(Client(REMOTE_ADDR=f"203.0.114.{i}"), "town_dispatcher", "bad")
    # ... but the account's ceiling holds every new address back, and never the owner's.
    locked = api_login(Client(REMOTE_ADDR="203.0.115.1"), "town_dispatcher", demo_password)
    assert locked.status_code == 429
    assert api_login(owner, "town_dispatcher", demo_password).status_code == 200
    clock.advance(3601)  # the spray window passed
    assert api_login(Client(REMOTE_ADDR="203.0.115.1"), "town_dispatcher", demo_password).status_code == 200


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_held_but_its_own_users_are_not(demo_password, clock):
    office = "198.51.100.30"
    assert api_login(Client(REMOTE_ADDR=office), "grid_manager", demo_password).status_code == 200
    sprayer = Client(REMOTE_ADDR=office)
    for i in range(30):
        assert api_login(sprayer, f"guess{i}", "bad").status_code == 401
    assert api_login(sprayer, "citizen", demo_password).status_code == 429  # never logged in from here
    assert api_login(Client(REMOTE_ADDR=office), "grid_manager", demo_password).status_code == 200


# ------------------------------------------------------------------ unlocking


def _lock(username, ip="203.0.113.60"):
    client = Client(REMOTE_ADDR=ip)
    for _ in range(5):
        api_login(client, username, "bad")
    return client


@pytest.mark.django_db
def test_an_administrator_unlocks_from_the_user_list(client_as, demo_password, clock):
    locked = _lock("grid_manager2")
    assert api_login(locked, "grid_manager2", demo_password).status_code == 429
    target = User.objects.get(username="grid_manager2")
    response = client_as("admin").post(
        "/admin/accounts/user/", {"action": "unlock_logins", "_selected_action": [target.pk]}
    )
    assert response.status_code == 302
    assert api_login(locked, "grid_manager2", demo_password).status_code == 200
    record = ChangeRecord.objects.filter(object_type__model="user", object_id=str(target.pk)).latest("id")
    assert record.user.username == "admin" and record.after == {"login": "unlocked"}


@pytest.mark.django_db
def test_the_unlock_command(demo_password, clock):
    locked = _lock("leader")
    call_command("unlock_login", "leader")
    assert api_login(locked, "leader", demo_password).status_code == 200


# ------------------------------------------------------------------ open redirects


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url, lands",
    [
        ("https://evil.example/", "/"),
        ("//evil.host/", "/"),
        ("/\\evil.host/", "/"),
        ("\\\\evil.host", "/"),
        ("http://testserver.evil/", "/"),
        ("javascript:alert(1)", "/"),
        ("/cases/", "/cases/"),
    ],
)
def test_login_never_redirects_off_site(next_url, lands, demo_password):
    client = Client()
    response = client.post(f"/login/?next={next_url}", {"username": "citizen", "password": demo_password})
    assert response.status_code == 302 and response["Location"] == lands
    response = Client().post("/login/", {"username": "citizen", "password": demo_password, "next": next_url})
    assert response["Location"] == lands
    assert Client().get(f"/admin/login/?next={next_url}")["Location"].startswith("/login/?next=%2F")


@pytest.mark.django_db
@pytest.mark.parametrize("next_url, lands", [("//evil.host/", "/watch/hits/"), ("/watch/hits/?state=open", None)])
def test_watch_review_next_stays_on_site(watch_list, register, next_url, lands):  # noqa: F811
    from django.urls import reverse

    from wangge.watch import actions as watch_actions
    from wangge.watch.models import Match, WatchHit

    watch_actions.screen([watch_list])
    hit = WatchHit.objects.get(match=Match.FUZZY)
    _user, client = watcher("watcher", "441900122")
    response = client.post(reverse("watch:review", args=[hit.pk]), {"decision": "confirmed", "next": next_url})
    assert response.status_code == 302 and response["Location"] == (lands or next_url)


def test_safe_next_helper():
    from wangge.core.safeurl import safe_next

    request = RequestFactory().get("/")
    assert safe_next(request, "//evil.host") == "/"
    assert safe_next(request, "/\\evil.host") == "/"
    assert safe_next(request, "https://evil.example/x") == "/"
    assert safe_next(request, "/registry/?q=1") == "/registry/?q=1"
    assert safe_next(request, "http://testserver/jobs/") == "http://testserver/jobs/"
