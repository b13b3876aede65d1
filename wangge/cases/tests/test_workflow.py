"""Every path of the transition table, role gating and the trail."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from wangge.cases import actions
from wangge.cases.models import AssignmentStatus, Case, Outcome, Status
from wangge.notify.models import Notification

from .conftest import VILLAGE_B_GRID, act, point_in

pytestmark = pytest.mark.django_db


def test_report_finds_the_grid_and_the_lowest_command_level(new_case):
    case = new_case()
    assert case.area.code == "441900122002001"
    assert case.status == Status.REPORTED
    assert case.command_level == "village"  # village_dispatcher commands village A
    assert case.number and len(case.tracking_number) == 10
    assert case.dispatch_deadline > case.created_at
    other = new_case(grid=VILLAGE_B_GRID)
    assert other.command_level == "town"  # no village dispatcher there: the town takes it
    assert [e.action for e in case.events.all()] == ["report"]


def test_the_village_dispatcher_is_told_of_a_new_case(new_case, user):
    case = new_case()
    assert Notification.objects.filter(recipient=user("village_dispatcher"), url=f"/cases/{case.pk}/").exists()


@pytest.fixture
def city_management_handler(db):
    from wangge.accounts import actions as accounts
    from wangge.accounts.models import Department, Role

    handler = accounts.create_user("cm_handler", "x-Password-1", full_name="城管处置")
    accounts.add_membership(handler, Role.DEPARTMENT_HANDLER, department=Department.objects.get(code="city_management"))
    return handler


def test_full_loop_with_joint_handling(new_case, user, photo_of, city_management_handler):
    case = new_case(matter_item="fire_exit")
    assert case.category.code == "0113" and case.severity == "important"
    act(case, "village_dispatcher", "register", note="属实")
    act(case, "village_dispatcher", "dispatch", departments=["fire", "city_management"])
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.assignments.count() == 2
    assert Notification.objects.filter(recipient=user("fire_handler"), subject__contains=case.number).exists()
    act(case, "fire_handler", "accept")
    act(case, city_management_handler, "accept")
    act(case, "fire_handler", "feedback", note="已清理", photo_ids=[photo_of(user("fire_handler"))])
    case.refresh_from_db()
    assert case.status == Status.HANDLING  # city management has not reported back yet
    act(case, city_management_handler, "feedback", note="已清运")
    case.refresh_from_db()
    assert case.status == Status.VERIFYING
    act(case, "grid_manager", "verify_fail", note="仍有杂物")
    case.refresh_from_db()
    assert case.status == Status.HANDLING
    assert set(case.assignments.values_list("status", flat=True)) == {AssignmentStatus.ACCEPTED}
    act(case, "fire_handler", "feedback", note="已彻底清理")
    act(case, city_management_handler, "feedback", note="已清运完毕")
    act(case, "grid_manager", "verify_pass", note="核查通过")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.outcome == Outcome.FIXED and case.closed_at
    assert list(case.events.values_list("action", flat=True)) == [
        "report",
        "register",
        "dispatch",
        "accept",
        "accept",
        "feedback",
        "feedback",
        "verify_fail",
        "feedback",
        "feedback",
        "verify_pass",
    ]
    assert case.events.get(action="dispatch").actor_role == "village_dispatcher"
    # The reporter (the grid manager) is told the outcome.
    assert Notification.objects.filter(recipient=user("grid_manager"), subject__contains=case.tracking_number).exists()


def test_single_department_feedback_moves_to_verification(new_case, user):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])  # register + dispatch in one
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "feedback", note="处理完毕")
    case.refresh_from_db()
    assert case.status == Status.VERIFYING
    assert Notification.objects.filter(
        recipient=user("grid_manager"), dedupe_key__startswith=f"case:{case.pk}:verify"
    ).exists()


def test_return_goes_back_to_the_dispatcher(new_case, user):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    with pytest.raises(ValidationError) as err:
        act(case, "fire_handler", "return")
    assert "note" in err.value.message_dict
    act(case, "fire_handler", "return", note="不属于消防职责")
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
    assert case.assignments.get().return_reason == "不属于消防职责"


def test_extension_requested_and_approved_moves_the_deadline(new_case):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    before = case.assignments.get().deadline
    act(case, "fire_handler", "request_extension", hours=24, note="需要采购材料")
    with pytest.raises(actions.TransitionNotAllowed):
        act(case, "fire_handler", "request_extension", hours=24, note="again")
    act(case, "village_dispatcher", "decide_extension", approve=True)
    assert case.assignments.get().deadline == before + timedelta(hours=24)
    act(case, "fire_handler", "request_extension", hours=48, note="还要更久")
    act(case, "village_dispatcher", "decide_extension", approve=False, note="不同意")
    a = case.assignments.get()
    assert a.deadline == before + timedelta(hours=24) and a.extension_status == "refused"


def test_handle_on_site_needs_a_photo_and_closes(new_case, user, photo_of):
    case = new_case()
    with pytest.raises(ValidationError) as err:
        act(case, "grid_manager", "handle_on_site", note="当场处理")
    assert "photo_ids" in err.value.message_dict
    act(case, "grid_manager", "handle_on_site", note="当场处理", photo_ids=[photo_of(user("grid_manager"))])
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.handled_on_site and case.outcome == Outcome.HANDLED_ON_SITE
    assert case.events.last().photos.count() == 1


def test_reject_with_reason(new_case):
    case = new_case()
    with pytest.raises(ValidationError):
        act(case, "village_dispatcher", "reject")
    act(case, "village_dispatcher", "reject", note="无效信息")
    case.refresh_from_db()
    assert case.status == Status.REJECTED


def test_close_without_a_fix_records_the_outcome_and_cancels_assignments(new_case):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "close", outcome="fixed", note="x")
    assert "outcome" in err.value.message_dict
    act(case, "village_dispatcher", "close", outcome="not_responsible", note="属于私人物业")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.outcome == "not_responsible" and case.outcome_reason == "属于私人物业"
    assert case.assignments.get().status == AssignmentStatus.CANCELLED


def test_escalate_village_town_city_and_the_village_loses_it(new_case):
    case = new_case()
    act(case, "village_dispatcher", "escalate", note="需镇协调")
    case.refresh_from_db()
    assert case.command_level == "town"
    with pytest.raises(actions.NotPermitted):
        act(case, "village_dispatcher", "register")
    act(case, "town_dispatcher", "escalate")
    case.refresh_from_db()
    assert case.command_level == "city"
    with pytest.raises(actions.NotPermitted):
        act(case, "town_dispatcher", "register")
    act(case, "city_dispatcher", "register")
    with pytest.raises(actions.TransitionNotAllowed):
        act(case, "city_dispatcher", "escalate")


def test_evaluate_and_reopen_within_the_window(new_case, settings):
    case = new_case(reporter="citizen", channel="citizen_web", reporter_phone="13912345678")
    act(case, "village_dispatcher", "close", outcome="withdrawn", note="市民撤回")
    act(case, "citizen", "evaluate", satisfaction=4, note="满意")
    act(case, "village_dispatcher", "evaluate", rating=5)
    case.refresh_from_db()
    assert (case.satisfaction, case.dispatcher_rating) == (4, 5)
    with pytest.raises(ValidationError):
        act(case, "citizen", "evaluate", satisfaction=9)
    act(case, "village_dispatcher", "reopen", note="问题复发")
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.outcome == ""
    act(case, "village_dispatcher", "close", outcome="cannot_fix", note="无法修复")
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=settings.CASE_REOPEN_DAYS + 1))
    with pytest.raises(actions.TransitionNotAllowed):
        act(case, "village_dispatcher", "reopen", note="太晚了")


def test_duplicates_are_flagged_and_merged_reporters_get_the_outcome(new_case, user):
    first = new_case(category="event:0102")
    lat, lng = point_in("441900122002001")
    second, _ = actions.report_case(
        actions.Report(
            description="垃圾堆放",
            channel="citizen_web",
            lat=lat + 0.0002,
            lng=lng,
            category="event:0102",
            reporter_phone="13900001111",
        )
    )
    assert second.duplicate_of_id == first.pk
    elsewhere = new_case(grid=VILLAGE_B_GRID, category="event:0102")
    assert elsewhere.duplicate_of_id is None
    act(second, "village_dispatcher", "merge", into=first.pk, note="重复上报")
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into_id == first.pk
    act(first, "village_dispatcher", "close", outcome="cannot_fix", note="无法处理")
    sms = Notification.objects.filter(channel="sms", dedupe_key__startswith=f"case:{second.pk}:outcome")
    assert sms.count() == 1 and "13900001111" not in sms.get().phone_encrypted


def test_urgent_cases_skip_registration_and_tell_the_leader_at_once(new_case, user):
    case = new_case(reporter="village_dispatcher", channel="api", severity="urgent")
    assert case.status == Status.REGISTERED
    assert Notification.objects.filter(recipient=user("leader"), dedupe_key=f"case:{case.pk}:urgent").exists()


@pytest.mark.parametrize(
    "username,action,params",
    [
        ("grid_manager", "dispatch", {"departments": ["fire"]}),
        ("fire_handler", "register", {}),
        ("village_dispatcher", "verify_pass", {}),
        ("village_dispatcher", "accept", {}),
    ],
)
def test_wrong_role_is_refused(new_case, username, action, params):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    with pytest.raises(actions.NotPermitted):
        act(case, username, action, **params)


def test_wrong_state_is_refused(new_case):
    case = new_case()
    with pytest.raises(actions.TransitionNotAllowed):
        act(case, "grid_manager", "verify_pass")
    act(case, "village_dispatcher", "register")
    with pytest.raises(actions.TransitionNotAllowed):
        act(case, "village_dispatcher", "register")


def test_stale_version_is_a_conflict(new_case, user):
    case = new_case()
    seen = case.version
    actions.transition(case, user("village_dispatcher"), "register", version=seen)
    with pytest.raises(actions.StaleVersion):
        actions.transition(case, user("town_dispatcher"), "reject", version=seen, note="重复")


def test_allowed_actions_are_exactly_what_the_user_may_do(new_case, user):
    case = new_case()
    names = lambda u: sorted(t.action for t in actions.allowed_actions(user(u), Case.objects.get(pk=case.pk)))  # noqa: E731
    assert names("village_dispatcher") == ["close", "dispatch", "escalate", "merge", "register", "reject"]
    assert names("grid_manager") == ["handle_on_site"]
    assert names("fire_handler") == []
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    assert names("fire_handler") == ["accept", "return"]
    assert names("grid_manager2") == []


def test_events_are_immutable(new_case):
    event = new_case().events.get()
    event.note = "changed"
    with pytest.raises(ValueError):
        event.save()
