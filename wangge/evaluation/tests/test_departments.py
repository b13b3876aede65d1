"""Department indicators on hand-built trails, including the two ways today's rates could be gamed."""

import pytest

from wangge.cases.models import Assignment
from wangge.evaluation.compute import compute, counted_case_ids
from wangge.evaluation.tests.conftest import act

pytestmark = pytest.mark.django_db


def dept_row(period, code="fire"):
    return next(r for r in compute("department", period) if r.subject.key == code and r.slice_path == "")


def dispatched(new_case, dispatcher="village_dispatcher", departments=("fire",)):
    case = new_case()
    act(case, dispatcher, "register")
    act(case, dispatcher, "dispatch", departments=list(departments))
    return case


def test_handled_on_time_late_and_rework(new_case, today):
    on_time = dispatched(new_case)
    act(on_time, "fire_handler", "accept")
    act(on_time, "fire_handler", "feedback", note="清理完毕")
    late = dispatched(new_case)
    act(late, "fire_handler", "accept")
    Assignment.objects.filter(case=late).update(deadline=late.created_at)  # the deadline passed
    act(late, "fire_handler", "feedback", note="晚了")
    act(late, "grid_manager", "verify_fail", note="还没清理")
    act(late, "fire_handler", "feedback", note="这次清理了")
    waiting = dispatched(new_case)
    Assignment.objects.filter(case=waiting).update(deadline=waiting.created_at)
    row = dept_row(today)
    m = row.measures
    assert (m["due"], m["handled"], m["handled_on_time"], m["overdue"], m["rework"]) == (3, 2, 1, 2, 1)
    assert row.indicators["dept_on_time_rate"] == round(1 / 3, 4)
    assert row.indicators["dept_rework_rate"] == 0.5
    assert counted_case_ids("department", today, "fire", "overdue") == sorted([late.pk, waiting.pk])
    assert counted_case_ids("department", today, "fire", "rework") == [late.pk]


def test_a_return_stays_due_until_the_dispatcher_accepts_it(new_case, today):
    case = dispatched(new_case)
    act(case, "fire_handler", "return", note="不是我们的")
    assert dept_row(today).measures["due"] == 1  # not decided: still the department's
    assert dept_row(today).measures["returns_pending"] == 1
    Assignment.objects.filter(case=case).update(return_decision="accepted")
    row = dept_row(today)
    assert row.measures["due"] == 0 and row.measures["returns_accepted"] == 1
    assert row.indicators["dept_on_time_rate"] is None  # nothing due: no rate, not 0 or 100 %


def test_a_case_closed_by_the_dispatcher_is_not_the_departments(new_case, today):
    case = dispatched(new_case)
    act(case, "village_dispatcher", "close", outcome="not_responsible", note="不属于城市管理")
    assert dept_row(today).measures["due"] == 0


def test_every_counted_figure_equals_its_case_list(new_case, today):
    for n in range(3):
        case = dispatched(new_case)
        act(case, "fire_handler", "accept")
        if n:
            act(case, "fire_handler", "feedback", note="好了")
    for result in compute("department", today):
        for code, value in result.measures.items():
            if code != "satisfaction_points":
                ids = counted_case_ids("department", today, result.subject.key, code, result.slice_path)
                assert len(ids) == value, (result.subject.key, result.slice_path, code)
