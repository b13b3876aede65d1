import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from wangge.notify import actions
from wangge.notify.models import Channel, Notification, SmsMessage, Status, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_dedupe_key_makes_notify_idempotent_per_user_and_channel(user):
    grid = user("grid_manager")
    first = actions.notify(grid, "Case 12 is due", url="/cases/12/", sms=True, dedupe_key="case:12:reminder:1")
    assert sorted(n.channel for n in first) == [Channel.INAPP, Channel.SMS]
    assert actions.notify(grid, "Case 12 is due", sms=True, dedupe_key="case:12:reminder:1") == []
    assert Notification.objects.filter(dedupe_key="case:12:reminder:1").count() == 2
    # The same key for someone else is another message; no key never deduplicates.
    assert len(actions.notify(user("town_dispatcher"), "Case 12 is due", dedupe_key="case:12:reminder:1")) == 1
    assert len(actions.notify(grid, "hello")) == len(actions.notify(grid, "hello")) == 1


def test_dedupe_inside_callers_transaction_survives_a_race(user, monkeypatch):
    """Two writers both pass the existence check: the loser's insert fails in a savepoint, silently."""
    grid = user("grid_manager")
    with transaction.atomic():
        actions.notify(grid, "first", dedupe_key="race")
        real = actions._duplicate_of
        calls = []

        def blind_first_check(row):
            calls.append(row)
            return Notification.objects.none() if len(calls) == 1 else real(row)

        monkeypatch.setattr(actions, "_duplicate_of", blind_first_check)
        assert actions.notify(grid, "second", dedupe_key="race") == []
        assert len(calls) == 2  # the insert was tried and its IntegrityError absorbed
        # The caller's transaction is still usable.
        assert Notification.objects.filter(recipient=grid, dedupe_key="race").count() == 1


def test_phone_and_webhook_dedupe(user):
    assert len(actions.notify_phone("138 0013 8000", "受理了", dedupe_key="case:5:received")) == 1
    assert actions.notify_phone("+86 13800138000", "受理了", dedupe_key="case:5:received") == []
    assert len(actions.notify_phone("13900139000", "受理了", dedupe_key="case:5:received")) == 1
    WebhookEndpoint.objects.create(name="a", url="http://127.0.0.1:9/a")
    WebhookEndpoint.objects.create(name="b", url="http://127.0.0.1:9/b")
    assert len(actions.emit_event("case.created", {"id": 5}, dedupe_key="case:5:created")) == 2
    assert actions.emit_event("case.created", {"id": 5}, dedupe_key="case:5:created") == []


def test_sms_only_when_asked_and_the_user_has_a_phone(user):
    grid = user("grid_manager")
    assert [n.channel for n in actions.notify(grid, "in-app only")] == [Channel.INAPP]
    grid.phone_encrypted = ""
    grid.save()
    assert [n.channel for n in actions.notify(grid, "no phone", sms=True)] == [Channel.INAPP]


def test_unread_count_and_bell_on_every_page(user, client_as):
    grid = user("grid_manager")
    actions.notify(grid, "Case 1 assigned to you", url="/notifications/")
    actions.notify(grid, "Case 2 assigned to you")
    actions.notify(user("town_dispatcher"), "not yours")
    assert actions.unread_count(grid) == 2
    page = client_as("grid_manager").get("/").content.decode()
    assert 'class="bell has-unread" href="/notifications/"' in page
    assert '<span class="badge">2</span>' in page
    actions.mark_read(grid)
    assert actions.unread_count(grid) == 0
    page = client_as("grid_manager").get("/").content.decode()
    assert 'href="/notifications/"' in page and 'class="badge"' not in page


def test_bell_costs_one_count_query_and_nothing_for_anonymous(user, client_as, client, django_assert_num_queries):
    assert "🔔" not in client.get("/login/").content.decode()
    grid = user("grid_manager")
    actions.notify(grid, "x")
    from django.test import RequestFactory

    from wangge.notify.context import notifications

    request = RequestFactory().get("/")
    request.user = grid
    context = notifications(request)
    with django_assert_num_queries(1):
        assert context["notify_unread"] == 1 and str(context["notify_unread"]) == "1"


def test_list_page_open_and_mark_all_read(user, client_as):
    grid = user("grid_manager")
    [first] = actions.notify(grid, "Case 7 needs you", url="/areas/")
    [second] = actions.notify(grid, "Case 8 needs you", body="Line one\nLine two")
    [theirs] = actions.notify(user("grid_manager2"), "Case 9 in the next village")
    client = client_as("grid_manager")
    page = client.get("/notifications/").content.decode()
    assert "Case 7 needs you" in page and "Case 8 needs you" in page and "Case 9" not in page
    assert page.index("Case 8") < page.index("Case 7")  # newest first
    assert page.count('class="unread"') == 2 and "Line one<br>Line two" in page

    response = client.get(f"/notifications/{first.pk}/open")
    assert response.status_code == 302 and response["Location"] == "/areas/"
    first.refresh_from_db()
    assert first.read_at is not None and actions.unread_count(grid) == 1
    assert client.get(f"/notifications/{second.pk}/open")["Location"] == "/notifications/"  # no link: the list
    # Someone else's notification does not exist for you.
    assert client.get(f"/notifications/{theirs.pk}/open").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    actions.notify(grid, "Case 10")
    assert client.get("/notifications/").content.decode().count('class="unread"') == 1
    assert client.post("/notifications/read/").status_code == 302
    assert actions.unread_count(grid) == 0 and actions.unread_count(user("grid_manager2")) == 1
    assert client.get("/notifications/read/").status_code == 405


def test_pages_need_login(client):
    assert client.get("/notifications/").status_code == 302


def test_open_does_not_redirect_off_site(user, client_as):
    [n] = actions.notify(user("grid_manager"), "phish", url="https://evil.example/")
    assert client_as("grid_manager").get(f"/notifications/{n.pk}/open")["Location"] == "/notifications/"


def test_api_list_and_read(user, api_as):
    grid = user("grid_manager")
    [a] = actions.notify(grid, "A", url="/cases/1/")
    [b] = actions.notify(grid, "B")
    [theirs] = actions.notify(user("grid_manager2"), "C")
    api = api_as("grid_manager")
    listed = api.get("/api/v1/notifications")
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["subject"] for i in items] == ["B", "A"] and items[1]["url"] == "/cases/1/"
    assert not items[0]["is_read"]

    read = api.post("/api/v1/notifications/read", {"ids": [a.pk, theirs.pk]})
    assert read.status_code == 200 and read.json() == {"marked": 1, "unread": 1}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert api.post("/api/v1/notifications/read", {"ids": None}).json() == {"marked": 1, "unread": 0}
    assert api.get("/api/v1/notifications").json()["items"][0]["is_read"]
    assert api_as(None).get("/api/v1/notifications").status_code == 401
    assert b.pk


def test_phone_is_encrypted_at_rest_and_shown_masked(user):
    grid = user("grid_manager")
    grid.set_phone("+86 139-1234-5678".replace("-", ""))
    grid.save()
    grid.refresh_from_db()
    assert grid.phone == "13912345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone_encrypted FROM accounts_user WHERE id = %s", [grid.pk])
        assert "12345678" not in cursor.fetchone()[0]

    actions.notify(grid, "hi", sms=True)
    [row] = actions.notify_phone("13700001111", "你的报事已受理")
    actions.deliver_due()
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone_encrypted, phone_hash FROM notify_notification WHERE channel = 'sms'")
        raw = " ".join(" ".join(r) for r in cursor.fetchall())
        cursor.execute("SELECT phone_encrypted, phone_masked FROM notify_smsmessage")
        raw_sms = " ".join(" ".join(r) for r in cursor.fetchall())
    assert "12345678" not in raw and "00001111" not in raw
    assert "12345678" not in raw_sms and "00001111" not in raw_sms
    assert row.masked_phone == "137****1111"
    assert set(SmsMessage.objects.values_list("phone_masked", flat=True)) == {"139****5678", "137****1111"}
    assert Notification.objects.filter(channel=Channel.SMS, status=Status.SENT).count() == 2


def test_bad_phones_are_refused(user):
    grid = user("grid_manager")
    with pytest.raises(ValidationError) as excinfo:
        grid.set_phone("1380013800")  # ten digits
    assert "phone" in excinfo.value.message_dict
    grid.set_phone("")
    assert grid.phone == "" and grid.phone_encrypted == ""
    with pytest.raises(ValidationError):
        actions.notify_phone("not a phone", "x")


def test_demo_users_have_phones(user):
    assert user("admin").phone == "13800000001"


def test_list_page_in_chinese_by_default_and_english_on_request(user, client_as):
    actions.notify(user("grid_manager"), "案件 1 已派发给你")
    client = client_as("grid_manager")
    page = client.get("/notifications/").content.decode()
    assert "全部标为已读" in page and "1 条未读" in page
    english = client.get("/notifications/", headers={"Accept-Language": "en"}).content.decode()
    assert "Mark all read" in english and "1 unread" in english
