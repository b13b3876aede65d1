"""The 12345 desk: who may file hotline cases, caller lookup by number, linking a caller to a
likely duplicate (they get the outcome by SMS), a consultation closed on the spot."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wangge.accounts.models import User
from wangge.cases import actions as case_actions
from wangge.cases.models import Case, CaseEvent, Outcome, Status
from wangge.cases.tests.conftest import point_in
from wangge.core import pii
from wangge.hotline import actions, lookup
from wangge.hotline.models import CaseCaller
from wangge.notify.models import Notification
from wangge.privacy.models import PersonalDataAccess

pytestmark = pytest.mark.django_db
GRID = "441900122002001"
CALLER = "13912340001"


def _call(**fields):
    lat, lng = point_in(GRID)
    values = {"phone": CALLER, "description": "小区门口路灯不亮，电话13812345678", "lat": lat, "lng": lng}
    return actions.Call(**{**values, **fields})


@pytest.mark.parametrize(
    "username",
    ["village_dispatcher", "city_dispatcher", "town_dispatcher", "grid_manager", "leader", "fire_handler", "citizen"],
)
def test_only_a_hotline_operator_files_hotline_cases(user, username):
    lat, lng = point_in(GRID)
    report = case_actions.Report(description="路灯不亮", channel="hotline", lat=lat, lng=lng)
    with pytest.raises(case_actions.FilingRefused) as refused:
        case_actions.report_case(report, user(username))
    assert "热线" in str(refused.value.errors["channel"]) or "Hotline" in str(refused.value.errors["channel"])
    assert not Case.objects.filter(channel="hotline").exists()


def test_api_names_the_channel_for_another_role(api_as):
    lat, lng = point_in(GRID)
    answer = api_as("town_dispatcher").post(
        "/api/v1/cases", {"description": "路灯不亮", "lat": lat, "lng": lng, "channel": "hotline"}
    )
    assert answer.status_code == 403 and "热线" in answer.json()["detail"]
    assert api_as("hotline").post("/api/v1/hotline/calls", {"phone": CALLER, "description": "x"}).status_code != 403
    assert (
        api_as("town_dispatcher").post("/api/v1/hotline/calls", {"phone": CALLER, "description": "x"}).status_code
        == 403
    )


def test_a_complaint_waits_at_the_command_level_covering_the_place(user):
    case = actions.file_call(user("hotline"), _call())
    assert case.channel == "hotline" and case.status == Status.REPORTED and case.command_level == "village"
    assert case.reporter_phone_hash == pii.phone_hash(CALLER) and case.reporter_phone == CALLER


def test_caller_lookup_finds_earlier_cases_by_hash_masked(user):
    operator = user("hotline")
    first = actions.file_call(operator, _call())
    actions.file_call(operator, _call(phone="13900000000", description="别人的案件"))
    # Written differently (+86, spaces): the same caller.
    history = lookup.caller_history(operator, "+86 139 1234 0001")
    assert [h["id"] for h in history] == [first.pk]
    assert "13812345678" not in history[0]["description"] and "138****5678" in history[0]["description"]
    assert PersonalDataAccess.objects.filter(user=operator, field="search:reporter_phone").count() == 1
    # A town dispatcher elsewhere does not see them (jurisdiction).
    assert lookup.caller_history(user("liaobu_dispatcher"), CALLER) == []


def test_caller_page_answers_once_the_number_is_complete(client_as):
    client = client_as("hotline")
    actions.file_call(User.objects.get(username="hotline"), _call())
    assert "路灯" not in client.post("/hotline/caller/", {"reporter_phone": "1391234"}).content.decode()
    page = client.post("/hotline/caller/", {"reporter_phone": CALLER}).content.decode()
    assert "路灯" in page and "138****5678" in page and "13812345678" not in page
    assert client_as("town_dispatcher").post("/hotline/caller/", {"reporter_phone": CALLER}).status_code == 403
    assert client.get("/hotline/caller/", {"reporter_phone": CALLER}).status_code == 405  # never in a URL


def test_linking_a_caller_to_a_duplicate_gets_them_the_outcome(user, client_as):
    operator = user("hotline")
    case = actions.file_call(operator, _call())
    lat, lng = point_in(GRID)
    client = client_as("hotline")
    # Saving a second call at the same place first offers the open case there.
    body = {"reporter_phone": "13700001111", "description": "路灯又坏", "kind": "complaint", "lat": lat, "lng": lng,
            "severity": "normal"}  # fmt: skip
    offered = client.post("/hotline/", body)
    assert offered.status_code == 409 and case.number in offered.content.decode()
    linked = client.post("/hotline/link/", {**body, "case": case.pk})
    assert linked.status_code == 302
    assert Case.objects.count() == 1
    caller = CaseCaller.objects.get(case=case)
    assert caller.phone == "13700001111" and caller.phone_hash == pii.phone_hash("13700001111")
    assert CaseEvent.objects.filter(case=case, action="caller_linked").count() == 1
    assert [h["id"] for h in lookup.caller_history(operator, "13700001111")] == [case.pk]
    # Closed: the linked caller gets the outcome by SMS (the notify outbox), like the reporter.
    case_actions.transition(
        case, user("village_dispatcher"), "close", version=case.version, outcome="withdrawn", note="撤回"
    )
    sms = Notification.objects.filter(channel="sms")
    assert {pii.decrypt(n.phone_encrypted) for n in sms} == {"13700001111", CALLER}
    # Saving again (confirmed) files a new case.
    again = client.post("/hotline/", {**body, "confirm_new": "1"})
    assert again.status_code == 302 and Case.objects.count() == 2


def test_link_refused_for_a_finished_case_and_other_roles(user):
    case = actions.file_call(user("hotline"), _call())
    with pytest.raises(PermissionDenied):
        actions.link_caller(user("town_dispatcher"), case.pk, "13700001111")
    case_actions.transition(
        case, user("village_dispatcher"), "close", version=case.version, outcome="withdrawn", note="撤回"
    )
    with pytest.raises(ValidationError) as refused:
        actions.link_caller(user("hotline"), case.pk, "13700001111")
    assert "case" in refused.value.message_dict
    # A case outside the operator's area: the same field error, nothing linked.
    with pytest.raises(ValidationError) as unknown:
        actions.link_caller(user("hotline"), 10**9, "13700001111")
    assert "case" in unknown.value.message_dict and not CaseCaller.objects.exists()


def test_api_lookup_file_and_link(api_as):
    api = api_as("hotline")
    lat, lng = point_in(GRID)
    filed = api.post("/api/v1/hotline/calls", {"phone": CALLER, "description": "井盖缺失", "lat": lat, "lng": lng})
    assert filed.status_code == 201, filed.content
    assert filed.json()["status"] == "reported" and filed.json()["command_level"] == "village"
    found = api.post("/api/v1/hotline/caller", {"phone": CALLER}).json()
    assert found["phone_masked"] == "139****0001" and [c["id"] for c in found["cases"]] == [filed.json()["id"]]
    assert api.get("/api/v1/hotline/nearby", lat=lat, lng=lng).json()[0]["id"] == filed.json()["id"]
    linked = api.post("/api/v1/hotline/links", {"case": filed.json()["id"], "phone": "13700002222"})
    assert linked.status_code == 201 and CaseCaller.objects.filter(case_id=filed.json()["id"]).count() == 1
    bad = api.post("/api/v1/hotline/calls", {"phone": "12", "description": "x", "lat": lat, "lng": lng})
    assert bad.status_code == 400 and "phone" in bad.json()["errors"]
    consult = api.post(
        "/api/v1/hotline/calls", {"phone": CALLER, "description": "问", "kind": "consultation", "answer": "答"}
    )
    assert consult.status_code == 201 and consult.json()["outcome"] == "answered"
    assert api_as("grid_manager").post("/api/v1/hotline/caller", {"phone": CALLER}).status_code == 403


def test_a_consultation_is_closed_on_the_spot(user, client_as):
    body = {"reporter_phone": CALLER, "description": "咨询居住证办理", "kind": "consultation",
            "answer": "携带身份证到社区服务中心办理", "severity": "normal"}  # fmt: skip
    answer = client_as("hotline").post("/hotline/", body)
    assert answer.status_code == 302
    case = Case.objects.get()
    assert case.status == Status.CLOSED and case.outcome == Outcome.ANSWERED and case.channel == "hotline"
    assert not case.assignments.exists()
    assert case.events.filter(action="answer").count() == 1
    missing = client_as("hotline").post("/hotline/", {**body, "answer": ""})
    assert missing.status_code == 400 and Case.objects.count() == 1


def test_desk_page_for_operators_only(client_as):
    page = client_as("hotline").get("/hotline/")
    assert page.status_code == 200 and "autofocus" in page.content.decode()
    assert client_as("town_dispatcher").get("/hotline/").status_code == 403


def test_a_town_operator_cannot_link_a_caller_to_another_towns_case(user, town_call_taker, api_as):
    """The case id a link names is resolved in the operator's own jurisdiction: 厚街's desk cannot
    attach callers to 寮步's cases (a field error, nothing written), on the page's action and the API."""
    lat, lng = point_in("441900111")
    liaobu = actions.file_call(user("hotline"), _call(lat=lat, lng=lng, description="寮步的案件"))
    assert liaobu.area_path.startswith("441900/441900111/")
    with pytest.raises(ValidationError) as refused:
        actions.link_caller(user(town_call_taker), liaobu.pk, "13700003333")
    assert "case" in refused.value.message_dict
    answer = api_as(town_call_taker).post("/api/v1/hotline/links", {"case": liaobu.pk, "phone": "13700003333"})
    assert answer.status_code == 400 and "case" in answer.content.decode()
    assert not CaseCaller.objects.filter(case=liaobu).exists()
    assert not CaseEvent.objects.filter(case=liaobu, action="caller_linked").exists()
