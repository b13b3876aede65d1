"""The case page's one-click suggestion, automatic dispatch under a rule, and undoing it."""

import pytest
from django.core.exceptions import ValidationError

from wangge.cases.models import AssignmentStatus, Case, MatterItem, Status
from wangge.routing import actions
from wangge.routing.models import AutoDispatchRule, CaseSuggestion

pytestmark = pytest.mark.django_db
GARBAGE = "路边有一大堆生活垃圾没人清理，苍蝇乱飞，臭死了"
HX = {"HX-Request": "true"}


@pytest.fixture
def file_case(new_case, huey_immediate, django_capture_on_commit_callbacks):
    """Files a case and runs what its commit queues (the worker's automatic dispatch, at once)."""

    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            case = new_case(**fields)
        return Case.objects.get(pk=case.pk)

    return make


def _rule(user, threshold=0.3, level="village", item="exposed_garbage"):
    return actions.save_rule(
        user("admin"), matter_item=MatterItem.objects.get(code=item), command_level=level, threshold=threshold
    )


def test_the_dispatcher_takes_a_suggestion_in_one_click(client_as, new_case):
    case = new_case(description=GARBAGE)
    dispatcher = client_as("village_dispatcher")
    panel = dispatcher.get(f"/routing/cases/{case.pk}/").content.decode()
    assert "智能分拣建议" in panel and "暴露垃圾" in panel and "采用并派遣" in panel
    suggestion = CaseSuggestion.objects.get(case=case).top
    response = dispatcher.post(
        f"/cases/{case.pk}/act/",
        {
            "action": "dispatch",
            "version": case.version,
            "category": suggestion["category"],
            "matter_item": suggestion["matter_item"],
            "departments": suggestion["department"],
        },
        headers=HX,
    )
    assert response.status_code == 200, response.content.decode()[:500]
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.category.name == "暴露垃圾"
    assert case.matter_item.code == "exposed_garbage"
    assert list(case.assignments.values_list("department__code", flat=True)) == ["city_management"]


def test_no_panel_actions_for_those_who_may_not_dispatch(client_as, new_case):
    case = new_case(description=GARBAGE)
    panel = client_as("grid_manager").get(f"/routing/cases/{case.pk}/").content.decode()
    assert "采用并派遣" not in panel
    assert client_as("liaobu_dispatcher").get(f"/routing/cases/{case.pk}/").status_code == 404


def test_a_rule_dispatches_a_confident_case_by_itself(user, file_case):
    _rule(user)
    case = file_case(description=GARBAGE)
    assert case.status == Status.HANDLING
    assignment = case.assignments.get()
    assert assignment.department.code == "city_management" and assignment.status == AssignmentStatus.PENDING
    row = CaseSuggestion.objects.get(case=case)
    assert row.auto_routed_at is not None and row.auto_rule.matter_item.code == "exposed_garbage"
    dispatch = case.events.get(action="dispatch")
    assert dispatch.actor is None and dispatch.actor_role == "system" and "自动派遣" in dispatch.note


def test_the_threshold_and_the_level_decide_and_a_second_run_changes_nothing(user, new_case):
    case = new_case(description=GARBAGE)  # no rule yet: nothing queued, the case waits
    row = actions.suggestion_for(case)
    assert row.top["matter_item"] == "exposed_garbage"
    row.suggestions[0]["score"] = 0.5  # as if the model were only half sure
    row.save()
    rule = _rule(user, threshold=0.6)
    _rule(user, threshold=0.1, level="city")  # another level's rule does not apply to a village case
    actions.auto_route(case.pk)
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED
    rule.threshold = 0.45
    rule.save()
    actions.auto_route(case.pk)
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.assignments.count() == 1
    actions.auto_route(case.pk)  # again (a retried task): nothing more
    assert case.assignments.count() == 1 and case.events.filter(action="dispatch").count() == 1


def test_no_rule_no_work_after_intake(new_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        case = new_case(description=GARBAGE)
    assert not any("enqueue" in getattr(c, "__name__", "") for c in callbacks)
    assert not CaseSuggestion.objects.filter(case=case).exists()


def test_a_dispatcher_undoes_it_and_the_case_waits_at_the_desk(user, file_case, client_as):
    _rule(user)
    case = file_case(description=GARBAGE)
    panel = client_as("village_dispatcher").get(f"/routing/cases/{case.pk}/").content.decode()
    assert "已自动派遣" in panel and "撤销自动派遣" in panel
    response = client_as("village_dispatcher").post(
        f"/routing/cases/{case.pk}/undo/", {"version": case.version, "note": "不是城管的事"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
    assert case.assignments.get().status == AssignmentStatus.CANCELLED
    row = CaseSuggestion.objects.get(case=case)
    assert row.undone_at is not None and row.undone_by.username == "village_dispatcher"
    assert case.events.filter(action="recall", note="不是城管的事").exists()
    with pytest.raises(ValidationError):
        actions.undo_auto_route(user("village_dispatcher"), case, version=case.version)


def test_undo_is_refused_once_a_department_accepted(user, file_case, api_as):
    _rule(user)
    case = file_case(description=GARBAGE)
    assignment = case.assignments.get()
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.save()
    response = api_as("village_dispatcher").post(f"/api/v1/routing/cases/{case.pk}/undo", {"version": case.version})
    assert response.status_code == 400 and "已有部门受理" in response.json()["detail"]
    assert Case.objects.get(pk=case.pk).status == Status.HANDLING
    # And another town's dispatcher cannot even see the case.
    assert api_as("liaobu_dispatcher").post(f"/api/v1/routing/cases/{case.pk}/undo", {"version": 1}).status_code == 404


def test_rules_bad_input_names_the_field(user):
    item = MatterItem.objects.get(code="exposed_garbage")
    for fields, name in [
        ({"threshold": 1.5, "command_level": "village", "matter_item": item}, "threshold"),
        ({"threshold": "x", "command_level": "village", "matter_item": item}, "threshold"),
        ({"threshold": 0.9, "command_level": "grid", "matter_item": item}, "command_level"),
        ({"threshold": 0.9, "command_level": "village", "matter_item": None}, "matter_item"),
    ]:
        with pytest.raises(ValidationError) as error:
            actions.save_rule(user("admin"), **fields)
        assert name in error.value.message_dict
    _rule(user)
    with pytest.raises(ValidationError) as error:
        _rule(user)
    assert "matter_item" in error.value.message_dict
    assert AutoDispatchRule.objects.count() == 1


def test_rules_on_the_page(client_as):
    admin = client_as("admin")
    response = admin.post(
        "/routing/rules/",
        {"matter_item": "exposed_garbage", "command_level": "town", "threshold": "0.95", "is_active": "1"},
    )
    assert response.status_code == 302
    rule = AutoDispatchRule.objects.get()
    assert (rule.command_level, rule.threshold, rule.is_active) == ("town", 0.95, True)
    page = admin.get("/routing/").content.decode()
    assert "暴露垃圾" in page and "镇" in page
    assert client_as("town_dispatcher").post("/routing/rules/", {"matter_item": "exposed_garbage"}).status_code == 403


def test_undo_on_the_page_bad_version_or_another_jurisdiction(user, file_case, client_as):
    _rule(user)
    case = file_case(description=GARBAGE)
    assert (
        client_as("liaobu_dispatcher").post(f"/routing/cases/{case.pk}/undo/", {"version": case.version}).status_code
        == 404
    )
    response = client_as("village_dispatcher").post(f"/routing/cases/{case.pk}/undo/", {"version": "x"}, follow=True)
    assert response.status_code == 200 and "请刷新案件页面后再试" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.HANDLING
    assert client_as("admin").post("/routing/rules/", {"rule": "abc", "threshold": "0.5"}).status_code == 404
