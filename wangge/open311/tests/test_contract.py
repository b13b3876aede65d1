"""The Open311 GeoReport v2 contract in JSON and XML, as a third-party client uses it: form-encoded
posts with attribute[x] keys, the specification's field names and error shapes (docs/open311.md)."""

import json
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from wangge.accounts.models import Department
from wangge.cases.models import Assignment, Case, CaseEvent, Channel, Status
from wangge.open311.keys import issue_key, revoke_key
from wangge.open311.models import Open311Client, Open311Request
from wangge.registry import actions as registry

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
INSIDE = {"lat": "22.93", "long": "113.67"}
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]  # fmt: skip
PERSONAL = {"first_name": "小明", "last_name": "王", "phone": "13912345678", "email": "wxm@example.com"}


@pytest.fixture(autouse=True)
def fresh_rates():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def key():
    return issue_key("城市App", rate_per_minute=1000)[1]


class ThirdParty:
    """Another city app talking to the endpoint: plain GETs and form-encoded POSTs."""

    def __init__(self, key=""):
        self.http = Client()
        self.key = key

    def get(self, path, **params):
        return self.http.get(BASE + path, params)

    def post(self, fmt="json", headers=None, **fields):
        body = urlencode({"api_key": self.key, **fields} if self.key else fields)
        return self.http.post(
            f"{BASE}requests.{fmt}", body, content_type="application/x-www-form-urlencoded", headers=headers or {}
        )


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.content)


def json_errors(response, status):
    assert response.status_code == status, response.content
    errors = response.json()
    assert isinstance(errors, list) and errors
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in errors)
    return " ".join(e["description"] for e in errors)


def xml_errors(response, status):
    assert response.status_code == status, response.content
    root = xml(response)
    assert root.tag == "errors"
    errors = root.findall("error")
    assert errors and all(e.findtext("code") == str(status) for e in errors)
    return " ".join(e.findtext("description") for e in errors)


def test_discovery_json_and_xml():
    data = ThirdParty().get("discovery.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(ThirdParty().get("discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats").findall("format")]
    assert formats == ["text/xml", "application/json"]


def test_services_from_taxonomy_and_matter_items():
    services = ThirdParty().get("services.json").json()
    by_code = {s["service_code"]: s for s in services}
    assert set(services[0]) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert by_code["matter-exposed_garbage"]["service_name"] == "暴露垃圾"
    assert by_code["matter-exposed_garbage"]["metadata"] is True
    assert by_code["matter-exposed_garbage"]["type"] == "realtime"
    assert "event-0102" in by_code and "part-0113" in by_code  # minor classes of 事件 and 部件
    root = xml(ThirdParty().get("services.xml"))
    assert root.tag == "services"
    service = next(s for s in root.findall("service") if s.findtext("service_code") == "matter-exposed_garbage")
    assert service.findtext("metadata") == "true" and service.findtext("service_name") == "暴露垃圾"
    assert len(root.findall("service")) == len(services)


def test_service_definition_and_unknown_code():
    data = ThirdParty().get("services/matter-exposed_garbage.json").json()
    assert data["service_code"] == "matter-exposed_garbage"
    attribute = data["attributes"][0]
    assert set(attribute) == {
        "variable", "code", "datatype", "required", "datatype_description", "order", "description", "values",
    }  # fmt: skip
    assert attribute["code"] == "urgency" and attribute["datatype"] == "singlevaluelist"
    assert [v["key"] for v in attribute["values"]] == ["normal", "important"]
    root = xml(ThirdParty().get("services/event-0102.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "event-0102"
    codes = [a.findtext("code") for a in root.find("attributes").findall("attribute")]
    assert codes == ["urgency", "details", "request_id"]
    assert root.find("attributes/attribute/values/value/key").text == "normal"
    assert root.findtext("attributes/attribute/required") == "false"
    assert "nope-1" in json_errors(ThirdParty().get("services/nope-1.json"), 404)
    xml_errors(ThirdParty().get("services/matter-nothing.xml"), 404)


def test_post_json_makes_an_open311_case_and_get_shows_no_personal_data(key):
    app = ThirdParty(key)
    response = app.post(
        service_code="matter-exposed_garbage",
        description="路口垃圾堆积，联系13912345678",
        media_url="https://img.example.com/a.jpg",
        account_id="acct-9",
        device_id="dev-1",
        **{"attribute[urgency]": "important", "attribute[details]": "已经三天了"},
        **INSIDE,
        **PERSONAL,
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert set(answer[0]) == {"service_request_id", "service_notice", "account_id"}
    assert answer[0]["account_id"] == "acct-9"
    case = Case.objects.get(number=answer[0]["service_request_id"])
    assert case.channel == Channel.OPEN311 and case.matter_item.code == "exposed_garbage"
    assert case.severity == "important" and case.reporter is None
    assert case.reporter_phone == "13912345678"  # kept for the handlers, encrypted
    record = Open311Request.objects.get(case=case)
    assert record.media_url == "https://img.example.com/a.jpg" and record.client.name == "城市App"

    for path in ["requests.json", f"requests/{case.number}.json", "requests.xml", f"requests/{case.number}.xml"]:
        body = ThirdParty().get(path).content.decode()
        for value in [*PERSONAL.values(), "acct-9", "dev-1", case.tracking_number]:
            assert value not in body, (path, value)
    one = ThirdParty().get(f"requests/{case.number}.json").json()
    assert len(one) == 1 and list(one[0]) == REQUEST_FIELDS
    assert one[0]["status"] == "open" and one[0]["service_code"] == "matter-exposed_garbage"
    assert one[0]["lat"] == 22.93 and one[0]["long"] == 113.67
    assert one[0]["requested_datetime"].endswith("+08:00")
    assert one[0]["media_url"] == "https://img.example.com/a.jpg"
    assert "路口垃圾堆积" in one[0]["description"]
    root = xml(ThirdParty().get(f"requests/{case.number}.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [child.tag for child in request] == REQUEST_FIELDS
    assert request.findtext("service_request_id") == case.number and request.findtext("zipcode") == ""


def test_post_xml_by_address_string_and_address_id(key, user):
    admin = user("admin")
    address = registry.save_address(admin, {"road": "莞太路", "number": "88号", "lat": 22.93, "lng": 113.67})
    root = xml(ThirdParty(key).post("xml", service_code="event-0102", address_string="莞太路88号"))
    assert root.tag == "service_requests"
    number = root.find("request").findtext("service_request_id")
    case = Case.objects.get(number=number)
    assert case.category.code == "0102" and case.lat == address.lat and case.address == address.full_text
    assert case.description  # the service's name when the client sends no description
    response = ThirdParty(key).post(service_code="event-0102", address_id=address.code, description="再报一次")
    assert response.status_code == 200
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).open311.address_id == address.code
    assert "address_id" in json_errors(ThirdParty(key).post(service_code="event-0102", address_id="NOPE"), 400)
    nowhere = ThirdParty(key).post(service_code="event-0102", address_string="无此路")
    assert "address_string" in json_errors(nowhere, 400)


@pytest.mark.parametrize("how", ["attribute", "header"])
def test_post_is_idempotent_by_the_clients_request_id(key, how):
    fields = {"service_code": "matter-street_vendor", "description": "游商占道", **INSIDE}
    if how == "attribute":
        fields["attribute[request_id]"] = "app-42"
        headers = {}
    else:
        headers = {"Idempotency-Key": "app-42"}
    first = ThirdParty(key).post(headers=headers, **fields)
    again = ThirdParty(key).post(headers=headers, **fields)
    assert first.status_code == 200 and again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Case.objects.filter(channel=Channel.OPEN311).count() == 1
    # Another client's same id is its own request.
    other = issue_key("另一个App")[1]
    assert ThirdParty(other).post(headers=headers, **fields).status_code == 200
    assert Case.objects.filter(channel=Channel.OPEN311).count() == 2


def test_post_errors_name_the_field(key):
    app = ThirdParty(key)
    assert "api_key" in json_errors(ThirdParty().post(service_code="matter-manhole", **INSIDE), 403)
    assert "api_key" in xml_errors(ThirdParty("wrong").post("xml", service_code="matter-manhole", **INSIDE), 403)
    assert "service_code" in json_errors(app.post(**INSIDE), 400)
    assert "service_code" in json_errors(app.post(service_code="matter-none", **INSIDE), 400)
    assert "lat" in json_errors(app.post(service_code="matter-manhole"), 400)
    assert "long" in json_errors(app.post(service_code="matter-manhole", lat="22.93"), 400)
    outside = json_errors(app.post(service_code="matter-manhole", lat="22.3", long="114.17"), 400)  # Hong Kong
    assert outside.startswith("lat")
    assert "lat" in xml_errors(app.post("xml", service_code="matter-manhole", lat="x", long="1"), 400)
    assert "phone" in json_errors(app.post(service_code="matter-manhole", phone="12", **INSIDE), 400)
    urgent = app.post(service_code="matter-manhole", **{"attribute[urgency]": "urgent"}, **INSIDE)
    assert "attribute[urgency]" in json_errors(urgent, 400)
    assert "media_url" in json_errors(app.post(service_code="matter-manhole", media_url="ftp://x", **INSIDE), 400)
    assert not Case.objects.filter(channel=Channel.OPEN311).exists()  # nothing half-written


def test_urgent_matter_item_is_not_urgent_from_an_app(key):
    response = ThirdParty(key).post(service_code="matter-gas_pipe", description="燃气味", **INSIDE)
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).severity == "important"


def test_revoked_key_is_refused(key):
    assert ThirdParty(key).post(service_code="matter-manhole", **INSIDE).status_code == 200
    revoke_key(Open311Client.objects.get())
    assert "api_key" in json_errors(ThirdParty(key).post(service_code="matter-manhole", **INSIDE), 403)
    json_errors(ThirdParty(key).get("services.json", api_key=key), 403)


def test_rate_limit_per_key_and_per_address(settings):
    client, key = issue_key("慢App", rate_per_minute=2)
    app = ThirdParty(key)
    assert app.post(service_code="matter-manhole", **INSIDE).status_code == 200
    assert app.post(service_code="matter-manhole", **INSIDE).status_code == 200
    refused = app.post(service_code="matter-manhole", **INSIDE)
    json_errors(refused, 429)
    assert 1 <= int(refused["Retry-After"]) <= 60
    settings.OPEN311_ANONYMOUS_RATE_PER_MINUTE = 3
    for _i in range(3):
        assert ThirdParty().get("services.json").status_code == 200
    refused = ThirdParty().get("services.xml")
    xml_errors(refused, 429)
    assert refused["Retry-After"]


def test_jurisdiction_id(key, settings):
    settings.OPEN311_JURISDICTION_ID = "dongguan.gov.cn"
    assert ThirdParty().get("services.json", jurisdiction_id="dongguan.gov.cn").status_code == 200
    assert "jurisdiction_id" in json_errors(ThirdParty().get("services.json", jurisdiction_id="sf"), 404)
    xml_errors(ThirdParty().get("requests.xml", jurisdiction_id="sf"), 404)
    assert ThirdParty(key).post(jurisdiction_id="sf", service_code="matter-manhole", **INSIDE).status_code == 404


def _posted(key, **fields):
    response = ThirdParty(key).post(**{"service_code": "matter-manhole", **INSIDE, **fields})
    assert response.status_code == 200, response.content
    return Case.objects.get(number=response.json()[0]["service_request_id"])


def test_get_requests_filters_status_dates_codes_and_ids(key):
    old, recent, closed = _posted(key, description="旧的"), _posted(key), _posted(key, service_code="event-0102")
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED, closed_at=timezone.now())
    CaseEvent.objects.create(case=closed, action="close", note="已清理完毕", is_public=True)
    CaseEvent.objects.create(case=closed, action="note", note="内部备注", is_public=False)
    fire = Department.objects.get(code="fire")
    Assignment.objects.create(case=recent, department=fire, deadline=timezone.now() + timedelta(days=1))
    staff_case = Case.objects.exclude(channel__in=["open311", "citizen_web"]).first()

    def ids(**params):
        return {r["service_request_id"] for r in ThirdParty().get("requests.json", **params).json()}

    assert ids() >= {recent.number, closed.number} and old.number not in ids()  # the last 90 days
    if staff_case is not None:
        assert staff_case.number not in ids()  # staff channels are internal
    assert closed.number in ids(status="closed") and recent.number not in ids(status="closed")
    assert recent.number in ids(status="open") and closed.number not in ids(status="open")
    assert {recent.number, closed.number} <= ids(status="open,closed")
    start = (timezone.now() - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - timedelta(days=95)).isoformat()
    assert ids(start_date=start, end_date=end) == {old.number}
    assert ids(service_code="event-0102") == {closed.number}
    assert ids(service_request_id=f"{old.number},{closed.number}", status="open") == {old.number, closed.number}
    one = {r["service_request_id"]: r for r in ThirdParty().get("requests.json").json()}
    assert one[closed.number]["status"] == "closed" and one[closed.number]["status_notes"] == "已清理完毕"
    assert one[closed.number]["expected_datetime"] is None
    assert one[recent.number]["agency_responsible"] == fire.name
    assert one[recent.number]["expected_datetime"].endswith("+08:00")
    root = xml(ThirdParty().get("requests.xml", status="closed"))
    assert [r.findtext("status") for r in root.findall("request")] == ["closed"] * len(root.findall("request"))
    assert "start_date" in json_errors(ThirdParty().get("requests.json", start_date="yesterday"), 400)
    assert "status" in json_errors(ThirdParty().get("requests.json", status="pending"), 400)
    assert "9999" in xml_errors(ThirdParty().get("requests/9999.xml"), 404)


def test_description_masks_personal_data_typed_into_it(key):
    case = _posted(key, description="王小明的电话13912345678，邮箱 wxm@example.com", last_name="王", first_name="小明")
    body = ThirdParty().get(f"requests/{case.number}.json").content.decode()
    assert "13912345678" not in body and "wxm@example.com" not in body and "王小明" not in body


def test_key_command_prints_a_working_key():
    out = StringIO()
    call_command("open311_key", "命令App", "--rate", "5", stdout=out, stderr=StringIO())
    key = out.getvalue().strip()
    assert Open311Client.objects.get(name="命令App").rate_per_minute == 5
    assert key not in json.dumps(list(Open311Client.objects.values()), default=str)  # stored hashed only
    assert ThirdParty(key).post(service_code="matter-manhole", **INSIDE).status_code == 200


def test_key_page_for_administrators_only(client_as):
    page = client_as("admin")
    response = page.post("/open311/keys/", {"name": "街道App", "rate_per_minute": "30"})
    assert response.status_code == 200
    text = response.content.decode()
    client = Open311Client.objects.get(name="街道App")
    key = text.split('id="new-key">')[1].split("<")[0]
    assert key.startswith(client.key_prefix) and ThirdParty(key).get("services.json", api_key=key).status_code == 200
    assert key not in page.get("/open311/keys/").content.decode()  # shown once
    assert "请" in text or "密钥" in text  # zh-hans
    assert page.post(f"/open311/keys/{client.pk}/revoke/").status_code == 302
    assert Open311Client.objects.get(pk=client.pk).revoked_at is not None
    assert page.post("/open311/keys/", {"name": ""}).status_code == 200
    for role in ["city_dispatcher", "citizen"]:
        assert client_as(role).get("/open311/keys/").status_code == 403


def test_only_an_open311_client_files_the_open311_channel(user, key):
    from wangge.cases import channels

    for username in ["admin", "city_dispatcher", "grid_manager", "citizen"]:
        assert "channel" in channels.refusal(user(username), Channel.OPEN311, "")
    assert "channel" in channels.refusal(None, Channel.OPEN311, "")  # nor an anonymous citizen
    assert not channels.refusal(None, Channel.OPEN311, "", system=channels.OPEN311)
    assert "severity" in channels.refusal(None, Channel.OPEN311, "urgent", system=channels.OPEN311)
    case = _posted(key)
    report = case.events.get(action="report")
    assert report.actor_role == "public" and report.data == {"channel": "open311"}
    assert case.idempotency_key is None  # no request id: nothing to replay
    with_id = _posted(key, **{"attribute[request_id]": "r-1"})
    assert with_id.idempotency_key == f"open311:{Open311Client.objects.get().pk}:r-1"


def test_unknown_resources_and_dates_answer_in_the_specifications_format(key):
    json_errors(ThirdParty().get("tokens/abc.json"), 404)
    xml_errors(ThirdParty().get("nothing/here.xml"), 404)
    json_errors(ThirdParty().http.put(BASE + "services.json"), 405)
    case = _posted(key)
    today = timezone.localdate().isoformat()
    found = ThirdParty().get("requests.json", start_date=today).json()
    assert case.number in {r["service_request_id"] for r in found}  # a bare date: from its first moment
    assert "end_date" in json_errors(ThirdParty().get("requests.json", end_date="2026-02-30T00:00:00Z"), 400)
    assert "start_date" in json_errors(ThirdParty().get("requests.json", start_date=today, end_date="2000-01-01"), 400)
