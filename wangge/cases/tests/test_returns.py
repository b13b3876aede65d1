"""Issue 14: the dispatcher's decision on a department's return (退回审核) and the rework count
(返工), on the case trail, so that the evaluation counts both fairly."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from wangge.cases import actions
from wangge.cases.models import Assignment, AssignmentStatus, Case, CaseEvent, ReturnDecision, Status
from wangge.notify.models import Notification

from .conftest import act

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(new_case):
    """returned() → a case the fire department returned (the village dispatcher's), and its assignment."""

    def make(**fields):
        case = new_case(**fields)
        act(case, "village_dispatcher", "dispatch", departments=["fire"])
        act(case, "fire_handler", "return", note="不属于消防职责")
        case.refresh_from_db()
        return case, case.assignments.get()

    return make


def names(user, case):
    case.refresh_from_db()
    return [t.action for t in actions.allowed_actions(user, case)]


def test_the_dispatcher_is_offered_the_decision_only_while_a_return_waits(returned, user):
    case, assignment = returned()
    assert case.status == Status.REGISTERED and assignment.waits_for_return_decision
    assert "decide_return" in names(user("village_dispatcher"), case)
    assert "decide_return" not in names(user("fire_handler"), case)
    act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=True)
    assert "decide_return" not in names(user("village_dispatcher"), case)


def test_an_accepted_return_is_recorded_and_the_case_stays_where_it_was(returned):
    case, assignment = returned()
    before = timezone.now()
    case = act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=True)
    assignment.refresh_from_db()
    assert case.status == Status.REGISTERED  # still waiting to be dispatched elsewhere
    assert assignment.status == AssignmentStatus.RETURNED
    assert assignment.return_decision == ReturnDecision.ACCEPTED and assignment.return_decided_at >= before
    event = case.events.last()
    assert event.action == "decide_return" and event.data == {"department": "fire", "approved": True}
    assert not event.is_public and event.from_status == event.to_status == Status.REGISTERED


def test_an_overruled_return_goes_back_to_the_department_with_its_original_deadline(returned, user):
    case, assignment = returned()
    deadline = assignment.deadline
    with pytest.raises(ValidationError) as err:  # overruling needs a reason
        act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=False)
    assert "note" in err.value.message_dict
    case = act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=False, note="属消防通道")
    assignment.refresh_from_db()
    assert case.status == Status.HANDLING
    assert assignment.status == AssignmentStatus.PENDING and assignment.deadline == deadline
    assert assignment.return_decision == ReturnDecision.OVERRULED and assignment.return_decided_at
    event = case.events.last()
    assert event.data == {"department": "fire", "approved": False} and event.note == "属消防通道"
    assert not event.is_public
    told = Notification.objects.get(
        recipient=user("fire_handler"), dedupe_key=f"assignment:{assignment.pk}:overruled:{case.version}"
    )
    assert case.number in told.subject and told.channel == "inapp"
    # The department takes it up again and may return it once more: a new decision is awaited.
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "return", note="仍非本部门")
    assignment.refresh_from_db()
    assert assignment.waits_for_return_decision and assignment.return_decided_at is None
    assert CaseEvent.objects.filter(case=case, action="decide_return").count() == 1


def test_the_clock_ran_on_while_it_was_away(returned):
    """Overruled after the deadline passed: pending with the old deadline, and the deadline
    checker's next run marks it overdue (and escalates by the rule), as for any late assignment."""
    case, assignment = returned()
    Assignment.objects.filter(pk=assignment.pk).update(deadline=timezone.now() - timedelta(hours=1))
    act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=False, note="应由消防处理")
    run = actions.check_deadlines()
    assignment.refresh_from_db()
    case.refresh_from_db()
    assert run.overdue == 1 and assignment.overdue_at is not None and assignment.status == AssignmentStatus.PENDING
    assert case.is_overdue
    # Already overdue before the return: overruled, the case is overdue at once.
    other, late = returned(description="另一宗")
    Assignment.objects.filter(pk=late.pk).update(overdue_at=timezone.now())
    Case.objects.filter(pk=other.pk).update(is_overdue=False)
    other = act(other, "village_dispatcher", "decide_return", assignment=late.pk, approve=False, note="应由消防处理")
    assert other.is_overdue


def test_a_return_redispatched_elsewhere_stays_undecided_until_the_dispatcher_decides(returned, user):
    case, assignment = returned()
    act(case, "village_dispatcher", "dispatch", departments=["city_management"])
    case.refresh_from_db()
    assignment.refresh_from_db()
    assert case.status == Status.HANDLING and assignment.waits_for_return_decision
    assert "decide_return" in names(user("village_dispatcher"), case)
    act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=True)
    case.refresh_from_db()
    assert case.status == Status.HANDLING  # city management is still on it


def test_overruling_a_department_already_back_on_the_case_is_refused(returned):
    case, assignment = returned()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])  # sent to the same department again
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=False, note="应处理")
    assert "assignment" in err.value.message_dict


@pytest.mark.parametrize(
    "params,field",
    [
        ({"note": "x"}, "approve"),  # approve missing
        ({"approve": "maybe"}, "approve"),
        ({"approve": True}, "assignment"),  # assignment missing
        ({"approve": True, "assignment": "abc"}, "assignment"),
        ({"approve": True, "assignment": 2**70}, "assignment"),
        ({"approve": False, "note": "  "}, "note"),
    ],
)
def test_decide_return_field_errors(returned, params, field):
    case, assignment = returned()
    if field in ("approve", "note"):
        params = {"assignment": assignment.pk, **params}
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "decide_return", **params)
    assert field in err.value.message_dict
    assignment.refresh_from_db()
    assert assignment.waits_for_return_decision


def test_an_assignment_of_another_case_or_not_returned_is_a_field_error(returned, new_case):
    case, assignment = returned()
    other, other_assignment = returned(description="另一宗")
    busy = new_case(description="第三宗")
    act(busy, "village_dispatcher", "dispatch", departments=["fire", "city_management"])
    act(busy, "fire_handler", "return", note="非本部门")
    working = busy.assignments.get(department__code="city_management")
    for target in (other_assignment.pk, working.pk):
        with pytest.raises(ValidationError) as err:
            act(case, "village_dispatcher", "decide_return", assignment=target, approve=True)
        assert "assignment" in err.value.message_dict
    with pytest.raises(ValidationError) as err:  # not returned: still at work on its own case
        act(busy, "village_dispatcher", "decide_return", assignment=working.pk, approve=True)
    assert "assignment" in err.value.message_dict
    act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=True)
    with pytest.raises(ValidationError) as err:  # decided already
        act(case, "village_dispatcher", "decide_return", assignment=assignment.pk, approve=False, note="改主意")
    assert "assignment" in err.value.message_dict


def test_wrong_role_and_stale_version(returned, user):
    case, assignment = returned()
    with pytest.raises(actions.NotPermitted):
        act(case, "fire_handler", "decide_return", assignment=assignment.pk, approve=True)
    with pytest.raises(actions.NotPermitted):
        act(case, "grid_manager", "decide_return", assignment=assignment.pk, approve=True)
    with pytest.raises(actions.StaleVersion):
        actions.transition(
            case, user("village_dispatcher"), "decide_return", version=case.version - 1, assignment=assignment.pk
        )
    assignment.refresh_from_db()
    assert assignment.waits_for_return_decision


def test_through_the_api(returned, api_as):
    case, assignment = returned()
    api = api_as("village_dispatcher")
    detail = api.get(f"/api/v1/cases/{case.pk}").json()
    assert "decide_return" in detail["allowed_actions"]
    assert detail["assignments"][0]["return_decision"] == "" and detail["assignments"][0]["rework_count"] == 0
    url = f"/api/v1/cases/{case.pk}/transitions"
    missing = api.post(url, {"action": "decide_return", "version": case.version, "assignment": assignment.pk})
    assert missing.status_code == 400 and "approve" in missing.json()["errors"]
    no_note = {"action": "decide_return", "version": case.version, "assignment": assignment.pk, "approve": False}
    response = api.post(url, no_note)
    assert response.status_code == 400 and "note" in response.json()["errors"]
    assert api_as("fire_handler").post(url, {**no_note, "note": "x"}).status_code == 403
    assert api.post(url, {**no_note, "version": case.version - 1, "note": "x"}).status_code == 409
    response = api.post(url, {**no_note, "note": "属消防职责"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "handling" and body["assignments"][0]["return_decision"] == "overruled"
    assert body["assignments"][0]["status"] == "pending" and body["assignments"][0]["return_decided_at"]


def test_the_case_page_shows_each_return_with_its_reason_and_decides_it(returned, client_as):
    case, assignment = returned()
    client = client_as("village_dispatcher")
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'data-assignment="{assignment.pk}"' in html and "不属于消防职责" in html
    assert "认可退回" in html and "不予认可" in html  # the two buttons, in Chinese
    hx = {"HX-Request": "true"}
    form = {"action": "decide_return", "version": case.version, "assignment": assignment.pk, "approve": "0"}
    refused = client.post(f"/cases/{case.pk}/act/", form, headers=hx)
    assert refused.status_code == 400 and 'data-status="registered"' in refused.content.decode()
    done = client.post(f"/cases/{case.pk}/act/", {**form, "note": "属消防通道"}, headers=hx)
    assert done.status_code == 200 and 'data-status="handling"' in done.content.decode()
    assert 'data-decision="overruled"' in done.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PENDING
    assert '<form class="action" data-action="decide_return"' not in done.content.decode()


def test_the_dispatch_board_lists_returns_to_decide(returned, new_case, client_as, api_as):
    case, assignment = returned()
    new_case(description="另一宗")  # nothing returned
    client = client_as("village_dispatcher")
    board = client.get("/command/board/").content.decode()
    assert board.count('class="badge amber return-waiting"') == 1
    assert client.get("/command/board/").context["board"]["returns_to_decide"] == 1
    queue = client.get("/cases/", {"status": "open", "returns": "1"})
    assert [c.pk for c in queue.context["page"]] == [case.pk]
    panel = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert f'data-assignment="{assignment.pk}"' in panel and "不属于消防职责" in panel
    data = api_as("village_dispatcher").get("/api/v1/insight/board").json()
    assert data["returns_to_decide"] == 1
    assert [c["return_waiting"] for c in data["cases"] if c["id"] == case.pk] == [True]
    one = api_as("village_dispatcher").get(f"/api/v1/insight/board/{case.pk}").json()
    assert one["returns_to_decide"][0]["assignment"] == assignment.pk and "decide_return" in one["allowed_actions"]
    answer = client.post(
        f"/command/cases/{case.pk}/act/",
        {"action": "decide_return", "version": case.version, "assignment": assignment.pk, "approve": "1"},
    )
    assert answer.status_code == 200
    assignment.refresh_from_db()
    assert assignment.return_decision == ReturnDecision.ACCEPTED
    assert client.get("/command/board/").context["board"]["returns_to_decide"] == 0


def test_rework_count_after_two_failed_verifications(new_case, user, photo_of):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    for round_ in range(2):
        act(case, "fire_handler", "feedback", note=f"第{round_ + 1}次处理")
        act(case, "grid_manager", "verify_fail", note="仍未解决")
    assignment = case.assignments.get()
    assert assignment.rework_count == 2 and assignment.status == AssignmentStatus.ACCEPTED
    assert assignment.done_at is None
    act(case, "fire_handler", "feedback", note="处理完毕")
    act(case, "grid_manager", "verify_pass")
    assignment.refresh_from_db()
    assert assignment.rework_count == 2


def test_the_migration_backfills_rework_count_from_the_trail(new_case, user):
    """0007's RunPython: every verify_fail event's departments, counted per case and department; the
    department's latest assignment that is not a return gets the count; unknown codes are skipped."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("wangge.cases.migrations.0007_assignment_return_decision_rework")
    twice = new_case()
    act(twice, "village_dispatcher", "dispatch", departments=["fire", "city_management"])
    once = new_case(description="另一宗")
    act(once, "village_dispatcher", "dispatch", departments=["fire"])
    act(once, "fire_handler", "return", note="非本部门")
    act(once, "village_dispatcher", "dispatch", departments=["fire"])  # the same department again
    never = new_case(description="第三宗")
    act(never, "village_dispatcher", "dispatch", departments=["fire"])

    def verify_fail(case, codes):
        CaseEvent.objects.create(case=case, action="verify_fail", data={"departments": codes})

    verify_fail(twice, ["fire", "city_management"])
    verify_fail(twice, ["fire", "gone_department"])
    verify_fail(once, ["fire"])
    CaseEvent.objects.create(case=never, action="verify_pass", data={})
    Assignment.objects.update(rework_count=0)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.backfill_rework_count(apps, editor)
    counts = {
        (a.case_id, a.department.code, a.status): a.rework_count
        for a in Assignment.objects.select_related("department")
    }
    assert counts == {
        (twice.pk, "fire", "pending"): 2,
        (twice.pk, "city_management", "pending"): 1,
        (once.pk, "fire", "returned"): 0,
        (once.pk, "fire", "pending"): 1,
        (never.pk, "fire", "pending"): 0,
    }


def test_a_return_left_undecided_until_the_case_closed_can_still_be_accepted(new_case):
    case = new_case()
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "return", note="不是我们的")
    act(case, "village_dispatcher", "close", outcome="not_responsible", note="不属于城市管理")
    returned = Assignment.objects.get(case=case, department__code="fire")
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "decide_return", assignment=returned.pk, approve=False, note="应处理")
    assert "approve" in err.value.message_dict
    act(case, "village_dispatcher", "decide_return", assignment=returned.pk, approve=True, note="认可")
    returned.refresh_from_db()
    assert returned.return_decision == ReturnDecision.ACCEPTED
