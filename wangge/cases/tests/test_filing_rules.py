"""Issue 13, items 5 and 12: idempotency keys belong to the client that sent them, and who may
file through which channel and with which urgency (one rule table for the API, the page and the
form's choices)."""

import pytest
from django.test import Client

from wangge.cases import actions, channels
from wangge.cases.models import Case, Channel, Severity, Status
from wangge.notify.models import Notification

from .conftest import point_in

pytestmark = pytest.mark.django_db


def public_body(description, **extra):
    lat, lng = point_in("441900122002001")
    return {"description": description, "lat": lat, "lng": lng, "reporter_phone": "13912345678", **extra}


def public_post(body, key):
    headers = {"Idempotency-Key": key}
    return Client().post("/api/v1/public/cases", body, content_type="application/json", headers=headers)


# ---- item 5: idempotency keys are not shared --------------------------------------------------


def test_two_anonymous_citizens_with_the_same_key_get_their_own_cases():
    first = public_post(public_body("甲市民：路灯不亮"), "1")
    second = public_post(public_body("乙市民：井盖缺失", reporter_phone="13800000001"), "1")
    assert first.status_code == 201 and second.status_code == 201, second.content
    assert first.json()["tracking_number"] != second.json()["tracking_number"]
    assert Case.objects.filter(description="乙市民：井盖缺失").exists()
    # The same citizen resending the same report gets the same case: the retry is still safe.
    again = public_post(public_body("甲市民：路灯不亮"), "1")
    assert again.status_code == 201 and again.json()["tracking_number"] == first.json()["tracking_number"]
    assert Case.objects.filter(description="甲市民：路灯不亮").count() == 1


def test_a_key_reused_for_another_report_is_refused_with_409(api_as):
    api = api_as("grid_manager")
    api.headers["Idempotency-Key"] = "phone-7"
    lat, lng = point_in("441900122002001")
    first = api.post("/api/v1/cases", {"description": "第一份报告", "lat": lat, "lng": lng})
    assert first.status_code == 201
    other = api.post("/api/v1/cases", {"description": "另一份报告", "lat": lat, "lng": lng})
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    assert not Case.objects.filter(description="另一份报告").exists()
    same = api.post("/api/v1/cases", {"description": "第一份报告", "lat": lat, "lng": lng})
    assert same.status_code == 201 and same.json()["id"] == first.json()["id"]


def test_the_system_key_space_is_out_of_reach_of_public_posts():
    key = "sensor:mh-001:m9"
    planted = public_post(public_body("伪造的传感器报警"), key)
    assert planted.status_code == 201
    lat, lng = point_in("441900122002001")
    alarm = actions.Report(description="井盖倾斜报警", channel=Channel.SENSOR, lat=lat, lng=lng, idempotency_key=key)
    case, created = actions.report_case(alarm, system=True)
    assert created and case.description == "井盖倾斜报警" and case.idempotency_key == f"system:{key}"


# ---- item 12: who may use which channel and urgency -------------------------------------------


@pytest.mark.parametrize(
    "username,channel,severity,status",
    [
        ("citizen", "grid_manager", "", 403),
        ("citizen", "api", "", 403),
        ("citizen", "citizen_web", "urgent", 403),
        ("citizen", "citizen_web", "", 201),
        ("landlord", "hotline", "", 403),
        ("grid_manager", "hotline", "", 403),
        ("grid_manager", "grid_manager", "urgent", 403),
        ("grid_manager", "grid_manager", "important", 201),
        ("grid_manager", "sensor", "", 403),
        ("fire_handler", "grid_manager", "", 403),
        ("fire_handler", "api", "", 201),
        ("town_dispatcher", "grid_manager", "", 403),
        ("town_dispatcher", "hotline", "urgent", 403),
        ("hotline", "hotline", "urgent", 201),
        ("town_dispatcher", "sensor", "", 403),
        ("city_dispatcher", "api", "urgent", 201),
    ],
)
def test_api_channel_and_urgency_by_role(api_as, username, channel, severity, status):
    lat, lng = point_in("441900122002001")
    body = {"description": f"{username}-{channel}-{severity}", "lat": lat, "lng": lng, "channel": channel}
    body |= {"severity": severity, "reporter_phone": "13912345678"}
    response = api_as(username).post("/api/v1/cases", body)
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["detail"]  # the reason, in words
        assert not Case.objects.filter(description=body["description"]).exists()
        assert not Notification.objects.filter(channel="sms").exists()


def test_the_api_default_channel_follows_the_table(api_as):
    lat, lng = point_in("441900122002001")
    made = {}
    for username in ("grid_manager", "citizen", "town_dispatcher"):
        body = {"description": f"默认渠道-{username}", "lat": lat, "lng": lng, "reporter_phone": "13912345678"}
        response = api_as(username).post("/api/v1/cases", body)
        assert response.status_code == 201, response.content
        made[username] = response.json()["channel"]
    assert made == {"grid_manager": "grid_manager", "citizen": "citizen_web", "town_dispatcher": "api"}


def test_a_citizen_picking_an_urgent_matter_item_does_not_text_the_leader(api_as):
    lat, lng = point_in("441900122002001")
    body = {"description": "燃气味", "lat": lat, "lng": lng, "matter_item": "gas_pipe", "reporter_phone": "13912345678"}
    response = api_as("citizen").post("/api/v1/cases", body)
    assert response.status_code == 201
    case = Case.objects.get(description="燃气味")
    assert case.severity == Severity.IMPORTANT and case.status == Status.REPORTED
    assert not Notification.objects.filter(dedupe_key=f"case:{case.pk}:urgent").exists()


def test_staff_form_offers_only_what_the_role_may_use(client_as):
    manager = client_as("grid_manager").get("/cases/new/")
    form = manager.context["form"]
    assert [c for c, _label in form.fields["channel"].choices] == ["grid_manager"]
    assert "urgent" not in [c for c, _label in form.fields["severity"].choices]
    operator = client_as("hotline").get("/cases/new/").context["form"]
    assert [c for c, _label in operator.fields["channel"].choices] == ["hotline"]
    assert "urgent" in [c for c, _label in operator.fields["severity"].choices]
    # Dispatchers take no calls any more (the hotline desk's operators do): no channel on the form.
    for username in ("citizen", "fire_handler", "leader", "town_dispatcher"):
        assert client_as(username).get("/cases/new/").status_code == 403


def test_staff_form_refuses_a_channel_or_urgency_the_role_may_not_use(client_as):
    lat, lng = point_in("441900122002001")
    page = client_as("grid_manager")
    for channel, severity in (("hotline", "normal"), ("grid_manager", "urgent")):
        body = {"description": "越权上报", "lat": lat, "lng": lng, "channel": channel, "severity": severity}
        response = page.post("/cases/new/", body)
        assert response.status_code == 200 and response.context["form"].errors
    assert not Case.objects.filter(description="越权上报").exists()


def test_the_new_case_button_only_for_those_who_may_file(client_as):
    assert 'href="/cases/new/"' in client_as("hotline").get("/cases/").content.decode()
    for username in ("leader", "town_dispatcher"):
        assert 'href="/cases/new/"' not in client_as(username).get("/cases/").content.decode()


def test_one_table_behind_api_page_and_form():
    assert set(channels.CHANNEL_RULES) == set(Channel.values)
    assert channels.SYSTEM in channels.CHANNEL_RULES[Channel.SENSOR].filers
    assert channels.CHANNEL_RULES[Channel.SENSOR].filers == {channels.SYSTEM}
