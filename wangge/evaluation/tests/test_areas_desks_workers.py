"""Area, desk and grid-manager indicators on hand-built trails."""

import pytest

from wangge.cases.models import Case
from wangge.evaluation.compute import compute, counted_case_ids
from wangge.evaluation.tests.conftest import act
from wangge.patrol.models import InspectionTask, TrackDay

pytestmark = pytest.mark.django_db

VILLAGE_A = "441900122002"
GRID_A = "441900122002001"


def row(subject_type, period, key):
    return next(r for r in compute(subject_type, period) if r.subject.key == key and r.slice_path == "")


def test_rejected_and_merged_reports_are_never_closed_work(new_case, today):
    closed = new_case()
    act(closed, "village_dispatcher", "register")
    act(closed, "village_dispatcher", "close", outcome="cannot_fix", note="无法处理")
    rejected = new_case()
    act(rejected, "village_dispatcher", "reject", note="无效")
    merged = new_case()
    target = new_case()
    act(target, "village_dispatcher", "register")
    act(merged, "village_dispatcher", "merge", into=target.pk, note="重复")
    for key in (GRID_A, VILLAGE_A):
        m = row("area", today, key).measures
        assert (m["reported"], m["registered"], m["closed"], m["closed_unfixed"]) == (4, 2, 1, 1)
    village = row("area", today, VILLAGE_A)
    assert village.indicators["area_close_rate"] == 0.5  # the rejected and the merged one are not "finished"
    assert counted_case_ids("area", today, VILLAGE_A, "registered") == sorted([closed.pk, target.pk])


def test_closed_on_time_needs_every_department_on_time(new_case, today):
    quick = new_case()
    act(quick, "village_dispatcher", "register")
    act(quick, "village_dispatcher", "dispatch", departments=["fire"])
    act(quick, "fire_handler", "accept")
    act(quick, "fire_handler", "feedback", note="好")
    act(quick, "grid_manager", "verify_pass", note="确认")
    slow = new_case()
    act(slow, "village_dispatcher", "register")
    act(slow, "village_dispatcher", "dispatch", departments=["fire"])
    act(slow, "fire_handler", "accept")
    slow.assignments.update(deadline=slow.created_at)
    act(slow, "fire_handler", "feedback", note="迟了")
    act(slow, "grid_manager", "verify_pass", note="确认")
    m = row("area", today, GRID_A).measures
    assert (m["closed"], m["closed_on_time"], m["resolved"]) == (2, 1, 2)
    assert counted_case_ids("area", today, GRID_A, "closed_on_time") == [quick.pk]


def test_recurrence_and_reopened(new_case, today):
    first = new_case(matter_item="fire_exit")
    act(first, "village_dispatcher", "register")
    again = new_case(matter_item="fire_exit")
    act(again, "village_dispatcher", "register")
    act(first, "village_dispatcher", "close", outcome="withdrawn", note="撤回")
    act(first, "village_dispatcher", "reopen", note="又堵了")
    m = row("area", today, GRID_A).measures
    assert m["recurrent"] == 1 and m["reopened"] == 1
    assert counted_case_ids("area", today, GRID_A, "recurrent") == [again.pk]


def test_desk_registration_and_dispatch(new_case, today):
    on_time = new_case()
    act(on_time, "village_dispatcher", "register")
    act(on_time, "village_dispatcher", "dispatch", departments=["fire"])
    late = new_case()
    act(late, "village_dispatcher", "register")
    Case.objects.filter(pk=late.pk).update(dispatch_deadline=late.created_at)
    act(late, "village_dispatcher", "dispatch", departments=["fire"])
    desk = row("desk", today, f"village:{VILLAGE_A}")
    m = desk.measures
    assert (m["received"], m["registered"], m["dispatched"], m["dispatched_on_time"]) == (2, 2, 2, 1)
    assert desk.indicators["desk_dispatch_on_time_rate"] == 0.5
    assert 0 <= desk.indicators["desk_register_hours"] < 0.01  # registered at once in the test
    assert counted_case_ids("desk", today, f"village:{VILLAGE_A}", "dispatched_on_time") == [on_time.pk]


def test_grid_manager_reports_verifications_inspections_and_duty(new_case, user, photo_of, today):
    manager = user("grid_manager")
    valid = new_case()
    act(valid, "village_dispatcher", "register")
    invalid = new_case()
    act(invalid, "village_dispatcher", "reject", note="无效")
    on_site = new_case()
    act(on_site, "grid_manager", "handle_on_site", note="当场处理", photo_ids=[photo_of(manager)])
    verified = new_case()
    act(verified, "village_dispatcher", "dispatch", departments=["fire"])
    act(verified, "fire_handler", "accept")
    act(verified, "fire_handler", "feedback", note="好")
    act(verified, "grid_manager", "verify_pass", note="确认")
    waiting = new_case()
    act(waiting, "village_dispatcher", "dispatch", departments=["fire"])
    act(waiting, "fire_handler", "accept")
    act(waiting, "fire_handler", "feedback", note="好")  # not yet verified
    InspectionTask.objects.create(
        target_kind="building",
        target_key="t:1",
        area_path=manager.memberships.get().area.path,
        checklist_code="building_visit",
        due_date=today.start,
        status="done",
        done_at=valid.created_at,
    )
    InspectionTask.objects.create(
        target_kind="building",
        target_key="t:2",
        area_path=manager.memberships.get().area.path,
        checklist_code="building_visit",
        due_date=today.start,
    )
    TrackDay.objects.update_or_create(
        worker=manager, day=today.start, defaults={"seconds_on_duty": 7200, "seconds_in_grid": 5400}
    )
    r = row("grid_manager", today, str(manager.pk))
    m = r.measures
    assert (m["reports"], m["valid_reports"], m["on_site"]) == (5, 4, 1)
    assert (m["verify_due"], m["verified"], m["verified_on_time"]) == (2, 1, 1)
    assert (m["tasks_due"], m["tasks_done"]) == (2, 1)
    assert r.indicators["gm_in_grid_share"] == 0.75 and m["duty_hours"] == 2
    assert counted_case_ids("grid_manager", today, str(manager.pk), "verified") == [verified.pk]
    other = row("grid_manager", today, str(user("grid_manager2").pk))
    assert other.measures["verify_due"] == 0 and other.measures["reports"] == 0
