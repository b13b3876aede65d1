import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client, override_settings
from django.utils import timezone

from wangge.accounts import actions
from wangge.accounts.models import ApiToken, Department, LoginFailure, Membership, Role
from wangge.areas.models import Area
from wangge.history.models import ChangeRecord


@pytest.mark.django_db
def test_token_login_use_and_revoke(demo_password):
    client = Client()
    response = client.post(
        "/api/v1/auth/token",
        {"username": "town_dispatcher", "password": demo_password},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(user__username="town_dispatcher").key_hash != token  # only a hash is stored
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["username"] == "town_dispatcher"
    assert me["memberships"][0]["role"] == "town_dispatcher" and me["memberships"][0]["area_code"] == "441900122"
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


@pytest.mark.django_db
def test_token_bad_input():
    client = Client()
    wrong = client.post("/api/v1/auth/token", {"username": "town_dispatcher", "password": "x"}, "application/json")
    assert wrong.status_code == 401
    missing = client.post("/api/v1/auth/token", {"username": "town_dispatcher"}, "application/json")
    assert missing.status_code == 422
    assert "password" in str(missing.json())


@pytest.mark.django_db
@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_failed_logins_are_throttled_in_api_and_pages(demo_password, monkeypatch):
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)  # the wait is seconds: no slow machine outlasts it
    client = Client()
    for _ in range(3):
        r = client.post("/api/v1/auth/token", {"username": "leader", "password": "bad"}, "application/json")
        assert r.status_code == 401
    # Even the right password is refused while locked.
    r = client.post("/api/v1/auth/token", {"username": "leader", "password": demo_password}, "application/json")
    assert r.status_code == 429 and "重试" in r.json()["detail"]
    page = client.post("/login/", {"username": "leader", "password": demo_password})
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    # Other users are not locked by it.
    r = client.post("/api/v1/auth/token", {"username": "citizen", "password": demo_password}, "application/json")
    assert r.status_code == 200
    assert actions.purge_old_login_failures() == 0  # still inside the window
    LoginFailure.objects.update(time="2000-01-01T00:00:00Z")  # remembered a day by default
    assert actions.purge_old_login_failures() == 3


@pytest.mark.django_db
def test_page_login_logout_and_password_change(demo_password):
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and "登录" in page.content.decode()
    bad = client.post("/login/", {"username": "grid_manager", "password": "wrong"})
    assert "请输入一个正确的" in bad.content.decode() or "correct" in bad.content.decode()
    ok = client.post("/login/", {"username": "grid_manager", "password": demo_password})
    assert ok.status_code == 302
    token = actions.issue_token(actions.User.objects.get(username="grid_manager"))
    weak = client.post("/password/", {"old_password": demo_password, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "errors" in weak.content.decode()
    strong = "Kp7#river-lantern"
    changed = client.post(
        "/password/", {"old_password": demo_password, "new_password1": strong, "new_password2": strong}
    )
    assert changed.status_code == 302
    assert not ApiToken.objects.filter(prefix=token[:8]).exists()  # old tokens revoked
    assert client.get("/").status_code == 200  # still logged in
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
    user = actions.User.objects.get(username="grid_manager")
    assert user.check_password(strong) and user.password.startswith("argon2")
    assert ChangeRecord.objects.filter(object_repr=str(user), after__password__startswith="changed").exists()


@pytest.mark.django_db
def test_api_password_change_reports_fields(api_as, demo_password):
    api = api_as("citizen")
    r = api.post("/api/v1/me/password", {"old_password": "wrong", "new_password": "x"})
    assert r.status_code == 400 and "old_password" in r.json()["errors"]
    r = api.post("/api/v1/me/password", {"old_password": demo_password, "new_password": "123"})
    assert r.status_code == 400 and "new_password" in r.json()["errors"]


@pytest.mark.django_db
def test_membership_rules():
    user = actions.create_user("newbie", "Some-password-1")
    town = Area.objects.get(code="441900122")
    grid = Area.objects.get(code="441900122002001")
    fire = Department.objects.get(code="fire")
    with pytest.raises(ValidationError) as caught:
        actions.add_membership(user, Role.GRID_MANAGER, area=town)
    assert "area" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        actions.add_membership(user, Role.DEPARTMENT_HANDLER)
    assert "department" in caught.value.message_dict
    with pytest.raises(ValidationError):
        actions.add_membership(user, Role.CITIZEN, area=grid)
    with pytest.raises(ValidationError):
        actions.add_membership(user, "astronaut", area=grid)
    actions.add_membership(user, Role.GRID_MANAGER, area=grid)
    actions.add_membership(user, Role.GRID_MANAGER, area=grid)  # again: no duplicate
    actions.add_membership(user, Role.DEPARTMENT_HANDLER, department=fire)
    assert Membership.objects.filter(user=user).count() == 2
    with pytest.raises(ValidationError) as caught:
        actions.create_user("newbie", "x")
    assert "username" in caught.value.message_dict


@pytest.mark.django_db
def test_changes_to_users_memberships_departments_are_recorded(user):
    admin = user("admin")
    earlier = ChangeRecord.objects.order_by("id").last()  # the demo city's own records come before
    newbie = actions.create_user("recorded", "Some-password-1", full_name="记录员", acting_user=admin)
    membership = actions.add_membership(
        newbie, Role.GRID_MANAGER, area=Area.objects.get(code="441900122002001"), acting_user=admin
    )
    actions.update_user(newbie, full_name="新名字", acting_user=admin)
    actions.remove_membership(membership, acting_user=admin)
    dept = actions.save_department("tobacco", "烟草专卖局", Area.objects.get(code="441900"), acting_user=admin)
    actions.save_department("tobacco", "烟草专卖局（改）", dept.area, acting_user=admin)
    records = ChangeRecord.objects.filter(user=admin, id__gt=earlier.id if earlier else 0).order_by("id")
    kinds = [(r.object_type.model, r.action) for r in records]
    assert kinds == [
        ("user", "create"),
        ("membership", "create"),
        ("user", "update"),
        ("membership", "delete"),
        ("department", "create"),
        ("department", "update"),
    ]
    assert all(r.user_name == "admin" for r in records)
    assert ("full_name", "记录员", "新名字") in records[2].changed_fields()
    assert records[1].related_id == str(newbie.pk)  # shows under the user too
    assert ("name", "烟草专卖局", "烟草专卖局（改）") in records[5].changed_fields()


@pytest.mark.django_db
def test_admin_edits_are_recorded(client_as):
    client = client_as("admin")
    dept = Department.objects.get(code="fire")
    response = client.post(
        f"/admin/accounts/department/{dept.pk}/change/",
        {"code": "fire", "name": "消防救援支队（改）", "level": "city", "area": dept.area.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    record = ChangeRecord.objects.filter(object_type__model="department", object_id=str(dept.pk)).latest("id")
    assert record.source == "admin" and record.user.username == "admin"
    assert ("name", "消防救援支队", "消防救援支队（改）") in record.changed_fields()


@pytest.mark.django_db
def test_admin_membership_inline_checks_the_rule(client_as):
    client = client_as("admin")
    target = actions.User.objects.get(username="citizen")
    town = Area.objects.get(code="441900122")
    data = {
        "username": "citizen",
        "full_name": "市民",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": target.memberships.get().pk,
        "memberships-0-user": target.pk,
        "memberships-0-role": "citizen",
        "memberships-0-area": "",
        "memberships-0-department": "",
        "memberships-1-user": target.pk,
        "memberships-1-role": "grid_manager",
        "memberships-1-area": town.pk,
        "memberships-1-department": "",
    }
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == 200  # form shown again with the error, nothing saved
    assert target.memberships.count() == 1
    data["memberships-1-area"] = Area.objects.get(code="441900122002001").pk
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert target.memberships.count() == 2
    assert ChangeRecord.objects.filter(object_type__model="membership", related_id=str(target.pk)).exists()


@pytest.mark.django_db
def test_a_token_is_kept_until_a_user_membership_or_token_changes(django_assert_num_queries, monkeypatch):
    """Looked up once per process, then no query but the version row's (at most every check
    interval) while it stays put; another process's change (the row moved) drops it here."""
    from wangge.accounts.models import User
    from wangge.core import refcache
    from wangge.core.models import CacheVersion

    user = User.objects.get(username="grid_manager")
    token = actions.issue_token(user)
    assert actions.user_for_token(token).username == "grid_manager"  # looked up (and last use noted)
    with django_assert_num_queries(0):
        assert actions.user_for_token(token).pk == user.pk
    clock = [refcache.time.monotonic() + 3600]  # an hour later: the version is compared, nothing moved
    monkeypatch.setattr(refcache.time, "monotonic", lambda: clock[0])
    with django_assert_num_queries(1):
        assert actions.user_for_token(token).pk == user.pk
    # Another process deactivates the user: only the version row tells this one.
    User.objects.filter(pk=user.pk).update(is_active=False)
    CacheVersion.objects.filter(name="accounts.tokens").update(version=F("version") + 1)
    with django_assert_num_queries(0):
        assert actions.user_for_token(token).pk == user.pk  # within the check interval: still kept
    clock[0] += settings.API_TOKEN_CACHE_SECONDS + 1
    assert actions.user_for_token(token) is None


@pytest.mark.django_db
def test_changing_a_users_membership_or_revoking_a_token_drops_cached_tokens(django_assert_num_queries):
    from wangge.accounts.models import User

    user = User.objects.get(username="grid_manager2")
    token = actions.issue_token(user)
    areas_before = {m.area_id for m in actions.user_for_token(token).memberships.all()}
    Membership.objects.filter(user=user).delete()
    assert areas_before and not list(actions.user_for_token(token).memberships.all())
    login = User.objects.get(username="grid_manager2")
    login.last_login = timezone.now()
    login.save(update_fields=["last_login"])  # a login does not empty the caches
    with django_assert_num_queries(0):
        actions.user_for_token(token)
    assert actions.revoke_token(token) and actions.user_for_token(token) is None


@pytest.mark.django_db
def test_the_old_password_cannot_be_guessed_with_a_stolen_session_or_token(api_as, client_as, demo_password):
    """Changing the password checks the old one through the login throttle, on the API and the page."""
    api = api_as("citizen")
    statuses = [
        api.post("/api/v1/me/password", {"old_password": f"guess-{n}", "new_password": "Kp7#river-lantern"}).status_code
        for n in range(8)
    ]
    assert statuses[:5] == [400] * 5 and statuses[-1] == 429
    refused = api.post("/api/v1/me/password", {"old_password": demo_password, "new_password": "Kp7#river-lantern"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1  # even the right one, while locked
    page = client_as("grid_manager")
    for n in range(7):
        r = page.post("/password/", {"old_password": f"guess-{n}", "new_password1": "x", "new_password2": "x"})
    assert r.status_code == 200 and "登录失败次数过多" in r.content.decode()
