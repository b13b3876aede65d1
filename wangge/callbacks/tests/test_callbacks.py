"""Callbacks (回访): opened when a citizen's case closes, once; results, retries, reopening, scope."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from wangge.accounts.models import Membership, User
from wangge.areas.models import Area
from wangge.callbacks import actions, queries
from wangge.callbacks.models import CallbackTask, Result, State
from wangge.callbacks.tasks import flag_overdue_callbacks
from wangge.cases import actions as case_actions
from wangge.cases.models import Case, Status

from .conftest import act, citizen_case, closed

pytestmark = pytest.mark.django_db


def test_a_citizens_case_gets_one_callback_when_it_closes(closed_citizen_case, new_case, user, settings):
    case = closed_citizen_case()
    task = CallbackTask.objects.get(case=case)
    assert task.state == State.OPEN and task.attempts == 0
    assert task.case_closed_at == case.closed_at
    expected_due = case.closed_at + timedelta(hours=settings.CALLBACK_DUE_HOURS)
    assert abs((task.due_at - expected_due).total_seconds()) < 5
    actions.open_for_closed_case(case)  # called again: the same task
    assert CallbackTask.objects.filter(case=case).count() == 1
    # Staff's own reports get none.
    staff = closed(new_case())
    assert staff.status == Status.CLOSED and not CallbackTask.objects.filter(case=staff).exists()


def test_hotline_cases_get_callbacks_and_a_fixed_case_too(user):
    case = citizen_case()
    Case.objects.filter(pk=case.pk).update(channel="hotline")  # as the hotline desk files it
    from .conftest import fixed

    case = fixed(case)
    assert case.outcome == "fixed"
    assert CallbackTask.objects.filter(case=case, state=State.OPEN).count() == 1


def test_a_rated_case_needs_no_call_and_a_case_without_a_number_cannot_be_called(closed_citizen_case):
    case = closed_citizen_case()
    case_actions.evaluate_by_tracking_number(case.tracking_number, 5, "很好")
    task = CallbackTask.objects.get(case=case)
    assert (task.state, task.result, task.satisfaction) == (State.DONE, Result.RATED, 5)
    silent = citizen_case()
    Case.objects.filter(pk=silent.pk).update(reporter_phone_encrypted="")  # e.g. an account without a phone
    silent = closed(silent)
    task = CallbackTask.objects.get(case=silent)
    assert (task.state, task.result) == (State.DONE, Result.NO_NUMBER)


def test_a_reopened_case_closed_again_gets_a_new_callback(closed_citizen_case):
    case = closed_citizen_case()
    case_actions.evaluate_by_tracking_number(case.tracking_number, 1, "没修好")
    act(case, "village_dispatcher", "reopen", note="市民来电说仍未修好")
    closed(case)
    first, second = CallbackTask.objects.filter(case=case).order_by("pk")
    assert first.result == Result.RATED
    assert second.state == State.OPEN  # the earlier rating was of the first closing: ask again


def test_not_reached_is_tried_again_then_closed_as_unreachable(closed_citizen_case, user, settings):
    settings.CALLBACK_MAX_ATTEMPTS = 3
    case = closed_citizen_case()
    task = CallbackTask.objects.get(case=case)
    operator = user("town_dispatcher")
    for attempt in (1, 2):
        task = actions.record_result(task.pk, operator, reached=False)
        assert (task.state, task.attempts) == (State.OPEN, attempt)
        assert task.next_try_at > timezone.now()
    ready, later = queries.queue(operator)
    assert task not in ready and task in later  # tried again later
    ready, later = queries.queue(operator, now=task.next_try_at + timedelta(seconds=1))
    assert task in ready
    task = actions.record_result(task.pk, operator, reached="no")
    assert (task.state, task.result, task.attempts) == (State.DONE, Result.UNREACHABLE, 3)
    assert case.events.filter(action="callback").count() == 3
    assert not case.events.filter(action="callback", is_public=True).exists()


def test_not_resolved_reopens_the_case_with_the_citizens_words(closed_citizen_case, user):
    case = closed_citizen_case()
    task = CallbackTask.objects.get(case=case)
    task = actions.record_result(
        task.pk, user("town_dispatcher"), reached=True, resolved=False, satisfaction=2, note="路灯还是不亮", reopen=True
    )
    assert (task.state, task.result, task.resolved, task.satisfaction, task.reopened) == (
        State.DONE,
        Result.REACHED,
        False,
        2,
        True,
    )
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
    event = case.events.get(action="callback")
    assert event.data == {"result": "reached", "attempt": 1, "resolved": False, "satisfaction": 2}
    assert event.actor.username == "town_dispatcher"
    assert "路灯还是不亮" in case.events.get(action="reopen").note


def test_reopening_is_refused_after_the_window_and_nothing_is_written(closed_citizen_case, user, settings):
    settings.CALLBACK_REOPEN_DAYS = 3
    case = closed_citizen_case()
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=4))
    task = CallbackTask.objects.get(case=case)
    with pytest.raises(ValidationError) as err:
        actions.record_result(
            task.pk, user("town_dispatcher"), reached=True, resolved=False, satisfaction=1, note="没修", reopen=True
        )
    assert "reopen" in err.value.message_dict
    task.refresh_from_db()
    case.refresh_from_db()
    assert (task.state, task.attempts, case.status) == (State.OPEN, 0, Status.CLOSED)
    assert not case.events.filter(action="callback").exists()
    # Without reopening, the result is recorded.
    actions.record_result(task.pk, user("town_dispatcher"), reached=True, resolved=False, satisfaction=1, note="没修")
    task.refresh_from_db()
    assert task.state == State.DONE and not task.reopened


@pytest.mark.parametrize(
    "fields, field",
    [
        ({}, "reached"),
        ({"reached": "maybe"}, "reached"),
        ({"reached": True, "satisfaction": 4}, "resolved"),
        ({"reached": True, "resolved": True, "satisfaction": 7}, "satisfaction"),
        ({"reached": True, "resolved": True, "satisfaction": 5, "reopen": True}, "reopen"),
        ({"reached": True, "resolved": False, "satisfaction": 2, "reopen": True}, "note"),
    ],
)
def test_bad_results_name_the_field(closed_citizen_case, user, fields, field):
    task = CallbackTask.objects.get(case=closed_citizen_case())
    with pytest.raises(ValidationError) as err:
        actions.record_result(task.pk, user("town_dispatcher"), **fields)
    assert field in err.value.message_dict


def test_overdue_callbacks_are_flagged_once_by_the_worker(closed_citizen_case):
    case = closed_citizen_case()
    CallbackTask.objects.filter(case=case).update(due_at=timezone.now() - timedelta(hours=1))
    assert flag_overdue_callbacks.call_local() == {"flagged": 1}
    first = CallbackTask.objects.get(case=case).overdue_at
    assert first is not None
    assert actions.flag_overdue() == 0
    assert CallbackTask.objects.get(case=case).overdue_at == first


def test_each_role_sees_the_callbacks_of_its_area(closed_citizen_case, user):
    task = CallbackTask.objects.get(case=closed_citizen_case())
    for username in ("town_dispatcher", "city_dispatcher", "admin"):
        assert task in queries.queue(user(username))[0], username
    assert task not in queries.queue(user("liaobu_dispatcher"))[0]
    # The hotline desk's operator (role call_taker), tied to the town.
    operator = User.objects.create_user("desk_operator", password="x")
    Membership.objects.create(user=operator, role="call_taker", area=Area.objects.get(code="441900122"))
    assert task in queries.queue(User.objects.get(pk=operator.pk))[0]
    from django.core.exceptions import PermissionDenied

    for username in ("grid_manager", "fire_handler", "leader", "citizen"):
        with pytest.raises(PermissionDenied):
            queries.callbacks(user(username))


def test_the_hotline_operator_calls_back_with_the_full_number_logged(closed_citizen_case, town_call_taker, user):
    """The desk's operators make the calls: they may see the caller's number in full, each time logged."""
    from wangge.privacy.actions import reveal
    from wangge.privacy.models import PersonalDataAccess

    case = closed_citizen_case()
    operator = user(town_call_taker)
    assert CallbackTask.objects.get(case=case) in queries.queue(operator)[0]
    assert reveal(operator, case, "reporter_phone", "回访来电人") == case.reporter_phone
    assert PersonalDataAccess.objects.filter(user=operator, field="reporter_phone").count() == 1
