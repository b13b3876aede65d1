import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.notify import actions
from wangge.notify.http import DeliveryError
from wangge.notify.models import Channel, Notification, SmsMessage, Status, WebhookEndpoint
from wangge.notify.webhooks import sign, verify

pytestmark = pytest.mark.django_db

BACKENDS = "wangge.notify.tests.test_delivery"


class FlakySmsBackend:
    """Fails `failures` times, then succeeds; remembers what it delivered."""

    failures = 0
    calls = []
    delivered = []

    def send(self, phone, text, *, idempotency_key, notification=None):
        FlakySmsBackend.calls.append(idempotency_key)
        if FlakySmsBackend.failures > 0:
            FlakySmsBackend.failures -= 1
            raise DeliveryError("gateway says no")
        FlakySmsBackend.delivered.append((phone, text, idempotency_key))


@pytest.fixture
def flaky(settings):
    settings.SMS_BACKEND = f"{BACKENDS}.FlakySmsBackend"
    FlakySmsBackend.failures, FlakySmsBackend.calls, FlakySmsBackend.delivered = 0, [], []
    return FlakySmsBackend


def sms_for(user):
    return Notification.objects.get(recipient=user, channel=Channel.SMS)


def test_dev_backend_records_an_sms_once(user):
    grid = user("grid_manager")
    actions.notify(grid, "Case 3 assigned", body="Please look today", sms=True)
    assert actions.deliver_due() == 1
    assert actions.deliver_due() == 0
    [message] = SmsMessage.objects.all()
    assert message.body == "Case 3 assigned\nPlease look today"
    assert message.phone_masked == "138****0006"  # grid_manager's demo phone
    sms = sms_for(grid)
    assert message.notification == sms and sms.status == Status.SENT and sms.attempts == 1 and sms.sent_at
    # Even a row forced back to pending is dropped by the backend (idempotency key): no second message.
    Notification.objects.filter(pk=sms.pk).update(status=Status.PENDING)
    actions.deliver_due()
    assert SmsMessage.objects.count() == 1


def test_retry_with_backoff_then_success(user, flaky):
    flaky.failures = 2
    grid = user("grid_manager")
    actions.notify(grid, "Reminder", sms=True)
    t0 = timezone.now()
    assert actions.deliver_due(now=t0) == 0
    sms = sms_for(grid)
    assert (sms.status, sms.attempts, sms.last_error) == (Status.PENDING, 1, "gateway says no")
    assert sms.next_attempt_at == t0 + timedelta(minutes=1) and sms.claimed_until is None
    assert actions.deliver_due(now=t0 + timedelta(seconds=30)) == 0 and len(flaky.calls) == 1  # not yet due
    t1 = t0 + timedelta(minutes=1)
    assert actions.deliver_due(now=t1) == 0
    sms.refresh_from_db()
    assert sms.attempts == 2 and sms.next_attempt_at == t1 + timedelta(minutes=2)
    assert actions.deliver_due(now=t1 + timedelta(minutes=1)) == 0 and len(flaky.calls) == 2
    assert actions.deliver_due(now=t1 + timedelta(minutes=2)) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (Status.SENT, 3, "")
    assert flaky.delivered == [("13800000006", "Reminder", str(sms.pk))]
    # Every attempt carried the same idempotency key.
    assert set(flaky.calls) == {str(sms.pk)}


def test_backoff_doubles_up_to_an_hour():
    assert [actions.backoff(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_sent_is_never_sent_again(user, flaky):
    grid = user("grid_manager")
    actions.notify(grid, "Once", sms=True)
    later = timezone.now() + timedelta(days=1)
    assert actions.deliver_due() == 1
    assert actions.deliver_due() == 0
    assert actions.deliver_due(now=later) == 0
    sms = sms_for(grid)
    assert actions.claim(sms.pk, later) is None
    assert len(flaky.calls) == 1


def test_only_one_claim_wins(user, flaky):
    grid = user("grid_manager")
    actions.notify(grid, "Contended", sms=True)
    sms = sms_for(grid)
    now = timezone.now()
    first = actions.claim(sms.pk, now)
    second = actions.claim(sms.pk, now)
    assert first is not None and first.status == Status.SENDING and second is None
    assert actions.deliver_due(now=now) == 0 and flaky.calls == []  # claimed: nobody else sends it
    # A worker that died keeps the row only until the claim expires; then it is sent (same key).
    later = now + timedelta(seconds=actions.CLAIM_SECONDS + 1)
    assert actions.deliver_due(now=later) == 1 and flaky.calls == [str(sms.pk)]
    # The dead worker's late outcome no longer counts.
    assert actions.send_claimed(first, now) and sms_for(grid).attempts == 2
    assert sms_for(grid).status == Status.SENT


def test_max_attempts_then_failed(user, flaky, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    flaky.failures = 100
    grid = user("grid_manager")
    actions.notify(grid, "Doomed", sms=True)
    now = timezone.now()
    for _ in range(5):
        actions.deliver_due(now=now)
        now += timedelta(hours=2)
    sms = sms_for(grid)
    assert (sms.status, sms.attempts, sms.last_error) == (Status.FAILED, 3, "gateway says no")
    assert len(flaky.calls) == 3
    # An administrator can send it again.
    assert actions.retry(sms)
    flaky.failures = 0
    assert actions.deliver_due(now=now) == 1


def test_a_crashing_backend_is_retried_not_fatal(user, settings):
    settings.SMS_BACKEND = f"{BACKENDS}.BrokenBackend"
    actions.notify(user("grid_manager"), "x", sms=True)
    assert actions.deliver_due() == 0
    sms = sms_for(user("grid_manager"))
    assert sms.status == Status.PENDING and "boom" in sms.last_error


class BrokenBackend:
    def send(self, phone, text, *, idempotency_key, notification=None):
        raise RuntimeError("boom")


def test_webhook_is_signed_and_verifiable(receiver):
    hook = WebhookEndpoint.objects.create(name="ops", url=receiver.url + "/hook", events=["case.created"])
    WebhookEndpoint.objects.create(name="other events", url=receiver.url + "/other", events=["case.closed"])
    WebhookEndpoint.objects.create(name="off", url=receiver.url + "/off", is_active=False)
    every = WebhookEndpoint.objects.create(name="all", url=receiver.url + "/all")
    created = actions.emit_event("case.created", {"case": 12, "title": "井盖缺失", "at": timezone.now()})
    assert sorted(n.endpoint_id for n in created) == [hook.pk, every.pk]
    assert actions.deliver_due() == 2
    assert sorted(r["path"] for r in receiver.requests) == ["/all", "/hook"]
    request = next(r for r in receiver.requests if r["path"] == "/hook")
    delivery = next(n for n in created if n.endpoint_id == hook.pk)
    headers, body = request["headers"], request["body"]
    assert headers["X-Wangge-Event"] == "case.created"
    assert headers["X-Wangge-Delivery"] == str(delivery.pk)
    assert headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Wangge-Signature"] == expected == sign(hook.secret, body)
    assert verify(hook.secret, body, headers["X-Wangge-Signature"]) and not verify(
        "wrong", body, headers["X-Wangge-Signature"]
    )
    document = json.loads(body)
    assert document["id"] == delivery.pk and document["event"] == "case.created" and document["created_at"]
    assert document["data"]["case"] == 12 and document["data"]["title"] == "井盖缺失"
    assert actions.deliver_due(now=timezone.now() + timedelta(days=1)) == 0 and len(receiver.requests) == 2


def test_webhook_failure_is_retried_with_the_same_delivery_id_and_body(receiver):
    WebhookEndpoint.objects.create(name="flaky", url=receiver.url + "/hook")
    [delivery] = actions.emit_event("case.closed", {"case": 3})
    receiver.status = 503
    now = timezone.now()
    assert actions.deliver_due(now=now) == 0
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and "503" in delivery.last_error and delivery.attempts == 1
    receiver.status = 200
    assert actions.deliver_due(now=now + timedelta(minutes=1)) == 1
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["X-Wangge-Delivery"] == second["headers"]["X-Wangge-Delivery"] == str(delivery.pk)


def test_webhook_to_a_switched_off_endpoint_fails_for_good(receiver):
    hook = WebhookEndpoint.objects.create(name="soon off", url=receiver.url + "/hook")
    [delivery] = actions.emit_event("case.created", {})
    WebhookEndpoint.objects.filter(pk=hook.pk).update(is_active=False)
    actions.deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and receiver.requests == []


def test_http_sms_backend_posts_to_the_gateway(user, receiver, settings):
    settings.SMS_BACKEND = "wangge.notify.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = receiver.url + "/sms"
    settings.SMS_GATEWAY_TOKEN = "gateway-token"
    [row] = actions.notify_phone("13700001111", "您反映的问题已受理")
    assert actions.deliver_due() == 1
    [request] = receiver.requests
    assert request["path"] == "/sms"
    assert request["headers"]["Authorization"] == "Bearer gateway-token"
    assert request["headers"]["Idempotency-Key"] == str(row.pk)
    assert json.loads(request["body"]) == {"phone": "13700001111", "text": "您反映的问题已受理", "id": str(row.pk)}
    assert SmsMessage.objects.count() == 0

    receiver.status = 500
    actions.notify_phone("13700002222", "second")
    assert actions.deliver_due() == 0
    failed = Notification.objects.get(status=Status.PENDING)
    assert "HTTP 500" in failed.last_error and failed.attempts == 1


def test_http_sms_backend_unreachable_gateway(settings):
    settings.SMS_BACKEND = "wangge.notify.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # discard port: nothing listens
    actions.notify_phone("13700001111", "x")
    assert actions.deliver_due() == 0
    assert "cannot reach 127.0.0.1" in Notification.objects.get().last_error


def test_delivery_is_queued_after_commit(user, huey_immediate, django_capture_on_commit_callbacks):
    grid = user("grid_manager")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.notify(grid, "After commit", sms=True)
    assert SmsMessage.objects.count() == 0 and len(callbacks) == 1
    callbacks[0]()
    assert SmsMessage.objects.count() == 1 and sms_for(grid).status == Status.SENT
    # In-app only: nothing to queue.
    with django_capture_on_commit_callbacks() as callbacks:
        actions.notify(grid, "bell only")
    assert callbacks == []


def test_periodic_task_sends_what_is_due(user, huey_immediate):
    from wangge.notify.tasks import deliver_due_notifications

    actions.notify_phone("13700001111", "picked up by the sweep")
    deliver_due_notifications.call_local()
    assert SmsMessage.objects.count() == 1


def test_admin_pages(client_as, user):
    actions.notify(user("grid_manager"), "x", sms=True)
    actions.deliver_due()
    WebhookEndpoint.objects.create(name="ops", url="http://127.0.0.1:9/hook")
    admin = client_as("admin")
    for name in ["notification", "smsmessage", "webhookendpoint"]:
        page = admin.get(f"/admin/notify/{name}/")
        assert page.status_code == 200, name
    sms_page = admin.get("/admin/notify/smsmessage/").content.decode()
    assert "138****0006" in sms_page and "13800000006" not in sms_page
    assert admin.get("/admin/notify/smsmessage/add/").status_code == 403
    outbox = admin.get("/admin/notify/notification/").content.decode()
    assert "138****0006" in outbox and "13800000006" not in outbox
    # An endpoint's events must be a list of names; empty means all.
    created = admin.post(
        "/admin/notify/webhookendpoint/add/",
        {"name": "all", "url": "https://example.org/hook", "events": "", "is_active": "on", "secret": "s3cret"},
    )
    assert created.status_code == 302 and WebhookEndpoint.objects.get(name="all").events == []
    refused = admin.post(
        "/admin/notify/webhookendpoint/add/",
        {"name": "bad", "url": "https://example.org/hook", "events": '{"a": 1}', "secret": "s"},
    )
    assert refused.status_code == 200 and not WebhookEndpoint.objects.filter(name="bad").exists()


def test_admin_send_again(client_as, user, flaky, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    flaky.failures = 1
    actions.notify(user("grid_manager"), "x", sms=True)
    actions.deliver_due()
    sms = sms_for(user("grid_manager"))
    assert sms.status == Status.FAILED
    response = client_as("admin").post(
        "/admin/notify/notification/", {"action": "send_again", "_selected_action": [sms.pk]}
    )
    assert response.status_code == 302
    sms.refresh_from_db()
    assert sms.status == Status.PENDING and sms.attempts == 0
    assert actions.deliver_due() == 1


def test_a_worker_that_died_on_the_last_attempt_gives_up(user, flaky, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    actions.notify(user("grid_manager"), "x", sms=True)
    sms = sms_for(user("grid_manager"))
    now = timezone.now()
    assert actions.claim(sms.pk, now)  # …and the worker dies
    assert actions.deliver_due(now=now + timedelta(hours=1)) == 0
    sms.refresh_from_db()
    assert sms.status == Status.FAILED and flaky.calls == []
