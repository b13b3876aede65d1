"""Work-order exchange: a mock hotline platform on loopback pushes an order in and receives its states."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone

from wangge.accounts.models import User
from wangge.callbacks.actions import record_result
from wangge.callbacks.models import CallbackTask
from wangge.cases.models import Case, Channel, Status
from wangge.cases.tests.conftest import VILLAGE_A_GRID, act, point_in
from wangge.core import pii
from wangge.notify import actions as notify
from wangge.notify.models import Notification, WebhookEndpoint
from wangge.notify.webhooks import sign, verify
from wangge.workorders import actions
from wangge.workorders.models import Platform, WorkOrder, WorkOrderPush

pytestmark = pytest.mark.django_db


class MockPlatform:
    """The hotline platform: receives our webhooks on 127.0.0.1, checks their signature, keeps each
    delivery once (by X-Wangge-Delivery) and can refuse the next `fail` deliveries (HTTP 500)."""

    def __init__(self, secret):
        self.secret, self.states, self.seen, self.fail, self.bad_signatures = secret, [], set(), 0, 0
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 200
                if not verify(mock.secret, body, self.headers.get("X-Wangge-Signature", "")):
                    mock.bad_signatures += 1
                    status = 401
                elif mock.fail > 0:
                    mock.fail -= 1
                    status = 500
                elif self.headers["X-Wangge-Delivery"] not in mock.seen:
                    mock.seen.add(self.headers["X-Wangge-Delivery"])
                    mock.states.append(json.loads(body)["data"])
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wangge-states"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hotline():
    endpoint = WebhookEndpoint.objects.create(name="12345", url="http://127.0.0.1:9/", events=["workorder.state"])
    mock = MockPlatform(endpoint.secret)
    endpoint.url = mock.url
    endpoint.save()
    mock.platform = Platform.objects.create(code="gd12345", name="12345热线平台", endpoint=endpoint)
    yield mock
    mock.close()


def push(platform, body, secret=None, client=None):
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"X-Wangge-Platform": platform.code, "X-Wangge-Signature": sign(secret or platform.secret, raw)}
    return (client or Client()).post("/api/v1/workorders", raw, content_type="application/json", headers=headers)


def order_body(order_id="GD20261202000123", **fields):
    lat, lng = point_in(VILLAGE_A_GRID)
    body = {
        "order_id": order_id,
        "content": "小区门口下水道堵塞,污水外溢",
        "caller": {"name": "陈女士", "phone": "13800138000"},
        "place": {"lat": lat, "lng": lng, "address": "厚街镇某路1号"},
        "deadline": (timezone.now() + timedelta(hours=6)).isoformat(),
    }
    body.update(fields)
    return body


def deliver_all(now=None):
    """What the worker does: queue each order's next state, send what is due."""
    for _ in range(10):
        actions.pump()
        if not notify.deliver_due(now=now):
            break


def test_an_order_round_trips_each_state_once_and_in_order(hotline):
    answer = push(hotline.platform, order_body())
    assert answer.status_code == 201, answer.content
    data = answer.json()
    case = Case.objects.get(number=data["case"]["number"])
    assert case.channel == Channel.WORKORDER and case.status == Status.REPORTED
    order = WorkOrder.objects.get(case=case)
    assert order.external_id == "GD20261202000123"
    # The caller's phone: encrypted and hashed, like every phone; never stored in clear.
    assert "13800138000" not in order.caller_phone_encrypted and order.caller_phone_hash == pii.lookup_hash(
        "13800138000"
    )
    assert case.reporter_phone == "13800138000" and "13800138000" not in case.reporter_phone_encrypted
    # The platform's deadline is the case's: dispatch and the assignment are due by it.
    assert case.due_at == order.deadline and case.dispatch_deadline <= case.due_at

    page = Client()
    page.force_login(User.objects.get(username="village_dispatcher"))
    body = page.get(f"/cases/{case.pk}/").content.decode()
    assert "办结时限（来件方规定）" in body and "工单对接" in body

    hotline.fail = 1  # the platform is down for the first delivery
    act(case, "village_dispatcher", "register", note="属实")
    deliver_all()
    assert hotline.states == []  # refused; waits for its retry
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    assert case.assignments.get().deadline <= case.due_at
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "feedback", note="已疏通")
    deliver_all()
    assert hotline.states == []  # "dispatched" waits behind "accepted": never out of order
    deliver_all(now=timezone.now() + timedelta(minutes=5))  # the retry is due
    assert [s["state"] for s in hotline.states] == ["accepted", "dispatched", "feedback"]
    act(case, "grid_manager", "verify_pass", note="核查通过")
    deliver_all()
    deliver_all(now=timezone.now() + timedelta(hours=2))  # nothing is sent twice
    states = hotline.states
    assert [s["state"] for s in states] == ["accepted", "dispatched", "feedback", "closed"]
    assert [s["seq"] for s in states] == [1, 2, 3, 4]
    assert {s["order_id"] for s in states} == {"GD20261202000123"}
    assert states[1]["departments"][0]["code"] == "fire" and states[2]["feedback"] == "已疏通"
    assert states[2]["reports"] == [{"department": "消防救援支队", "feedback": "已疏通"}]
    assert states[3]["outcome"] == "fixed" and states[3]["case_number"] == case.number
    assert hotline.bad_signatures == 0
    assert all("13800138000" not in json.dumps(s) for s in states)  # no personal data goes back

    # The callback (回访): an attempt that did not reach the caller is not told; the result is, once.
    task = CallbackTask.objects.get(case=case)
    operator = User.objects.get(username="town_dispatcher")
    record_result(task.pk, operator, reached=False)
    deliver_all()
    assert [s["state"] for s in hotline.states][-1] == "closed"
    record_result(task.pk, operator, reached=True, resolved=True, satisfaction=5, note="满意")
    assert actions.push_state(case, "callback", {"satisfaction": 5}) is None  # told already
    deliver_all()
    assert hotline.states[-1]["state"] == "callback" and hotline.states[-1]["satisfaction"] == 5
    assert hotline.states[-1]["result"] == "reached" and hotline.states[-1]["resolved"] is True
    assert "满意" not in json.dumps(hotline.states[-1])  # the call's words stay here
    assert WorkOrderPush.objects.filter(order=order).count() == 5
    assert all(p.sent_at for p in WorkOrderPush.objects.filter(order=order))


def test_a_reopened_case_is_closed_again_in_a_new_round(hotline):
    case = Case.objects.get(number=push(hotline.platform, order_body()).json()["case"]["number"])
    act(case, "village_dispatcher", "close", outcome="not_responsible", note="非本单位职责")
    act(case, "village_dispatcher", "reopen", note="市民不认可")
    act(case, "village_dispatcher", "close", outcome="not_responsible", note="再次核实")
    deliver_all()
    states = [(s["state"], s["round"]) for s in hotline.states]
    assert states == [("closed", 0), ("reopened", 1), ("closed", 1)]
    assert hotline.states[0]["outcome"] == "not_responsible"


def test_the_same_order_id_answers_with_the_same_case(hotline):
    first = push(hotline.platform, order_body())
    again = push(hotline.platform, order_body(content="内容不同也不会再建案卷"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["case"] == first.json()["case"] and again.json()["created"] is False
    assert WorkOrder.objects.count() == 1
    assert Case.objects.filter(channel=Channel.WORKORDER).count() == 1
    # Another platform's order with the same number is another order.
    other = Platform.objects.create(code="other", name="其他平台")
    assert push(other, order_body()).status_code == 201


def test_an_urgent_order_is_important_not_a_leader_alert(hotline):
    case = Case.objects.get(number=push(hotline.platform, order_body(urgent=True)).json()["case"]["number"])
    assert case.severity == "important" and case.status == Status.REPORTED


@pytest.mark.parametrize(
    "change, field",
    [
        ({"order_id": ""}, "order_id"),
        ({"order_id": None}, "order_id"),
        ({"content": "  "}, "content"),
        ({"place": {"lat": 39.9, "lng": 116.4}}, "place"),  # Beijing: outside the city
        ({"place": {"lat": "x", "lng": 113.7}}, "place.lat"),
        ({"place": None}, "place"),
        ({"place": {"address": "没有这个地址"}}, "place.address"),
        ({"caller": {"phone": "12"}}, "caller.phone"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"urgent": "yes"}, "urgent"),
    ],
)
def test_a_bad_order_is_a_400_naming_the_field(hotline, change, field):
    answer = push(hotline.platform, order_body(**change))
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]
    assert not WorkOrder.objects.exists() and not Case.objects.filter(channel=Channel.WORKORDER).exists()


def test_a_place_by_standard_address(hotline, user):
    from wangge.registry import actions as registry

    lat, lng = point_in(VILLAGE_A_GRID)
    address = registry.save_address(user("admin"), {"road": "莞太路", "number": "12号", "lat": lat, "lng": lng})
    answer = push(hotline.platform, order_body(place={"address": address.full_text}))
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(number=answer.json()["case"]["number"])
    assert (case.lat, case.lng) == (address.lat, address.lng)


def test_unsigned_or_wrongly_signed_orders_are_refused(hotline):
    assert push(hotline.platform, order_body(), secret="wrong").status_code == 401
    raw = json.dumps(order_body()).encode()
    assert Client().post("/api/v1/workorders", raw, content_type="application/json").status_code == 401
    hotline.platform.is_active = False
    hotline.platform.save()
    assert push(hotline.platform, order_body()).status_code == 401
    assert not WorkOrder.objects.exists()


def test_body_not_json(hotline):
    raw = b"{not json"
    headers = {"X-Wangge-Platform": hotline.platform.code, "X-Wangge-Signature": sign(hotline.platform.secret, raw)}
    answer = Client().post("/api/v1/workorders", raw, content_type="application/json", headers=headers)
    assert answer.status_code == 400


def test_cases_from_elsewhere_push_nothing(hotline, new_case):
    case = new_case()
    act(case, "village_dispatcher", "register", note="属实")
    assert actions.push_state(case, "callback", {}) is None
    assert not WorkOrderPush.objects.exists()
    assert not Notification.objects.filter(subject="workorder.state").exists()


def test_the_worker_pumps_waiting_states(hotline):
    from wangge.workorders.tasks import pump_work_order_states

    case = Case.objects.get(number=push(hotline.platform, order_body()).json()["case"]["number"])
    hotline.fail = 1
    act(case, "village_dispatcher", "register", note="属实")
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    notify.deliver_due()  # "accepted" refused
    assert WorkOrderPush.objects.filter(notification__isnull=True).count() == 1  # "dispatched" waits
    Notification.objects.filter(subject="workorder.state").update(next_attempt_at=timezone.now())
    notify.deliver_due()  # the retry of "accepted" gets through
    pump_work_order_states.call_local()  # queues "dispatched" and sends it
    assert [s["state"] for s in hotline.states] == ["accepted", "dispatched"]


def test_a_platform_over_its_rate_limit_gets_429(hotline, settings):
    settings.RATE_LIMITS = {"workorder": (2, 60)}
    assert [push(hotline.platform, order_body(f"A{n}")).status_code for n in range(2)] == [201, 201]
    refused = push(hotline.platform, order_body("A3"))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0 and "retry_after" in refused.json()


def test_the_admin_pages(hotline, client_as):
    case = Case.objects.get(number=push(hotline.platform, order_body()).json()["case"]["number"])
    act(case, "village_dispatcher", "register", note="属实")
    admin = client_as("admin")
    order = WorkOrder.objects.get()
    for path in (
        "/admin/workorders/platform/",
        "/admin/workorders/workorder/",
        f"/admin/workorders/workorder/{order.pk}/change/",
    ):
        page = admin.get(path)
        assert page.status_code == 200, path
    body = admin.get(f"/admin/workorders/workorder/{order.pk}/change/").content.decode()
    assert "已受理" in body and "13800138000" not in body
