"""The three rates from callbacks: made, resolved and satisfied per the citizen, for areas and for the
departments that did the work; each count links to exactly the cases it counts."""

import pytest

from wangge.callbacks import actions
from wangge.callbacks.models import CallbackTask
from wangge.evaluation.compute import compute, counted_case_ids

from .conftest import citizen_case, closed, fixed

pytestmark = pytest.mark.django_db

VILLAGE_A, GRID_A, TOWN = "441900122002", "441900122002001", "441900122"


def row(subject_type, period, key):
    return next(r for r in compute(subject_type, period) if r.subject.key == key and r.slice_path == "")


def call(case, operator, **result):
    task = CallbackTask.objects.get(case=case, state="open")
    return actions.record_result(task.pk, operator, **result)


def test_callbacks_feed_the_resolution_and_satisfaction_rates(today, user):
    operator = user("town_dispatcher")
    happy, unhappy, unreachable = fixed(citizen_case()), fixed(citizen_case()), fixed(citizen_case())
    not_fire = closed(citizen_case())  # closed without any department: counts for the area only
    call(happy, operator, reached=True, resolved=True, satisfaction=5)
    call(unhappy, operator, reached=True, resolved=False, satisfaction=2, note="没修好")
    call(not_fire, operator, reached=True, resolved=True, satisfaction=4)
    call(unreachable, operator, reached=False)  # one attempt: not a callback made
    for key in (GRID_A, VILLAGE_A, TOWN):
        area = row("area", today, key)
        m = area.measures
        assert (m["callbacks_done"], m["callback_resolved"], m["callback_satisfied"]) == (3, 2, 2), key
        assert area.indicators["area_callback_resolve_rate"] == round(2 / 3, 4)
        assert area.indicators["area_callback_satisfaction_rate"] == round(2 / 3, 4)
    assert counted_case_ids("area", today, VILLAGE_A, "callback_resolved") == sorted([happy.pk, not_fire.pk])
    fire = row("department", today, "fire")
    m = fire.measures
    assert (m["callbacks_done"], m["callback_resolved"], m["callback_satisfied"]) == (2, 1, 1)
    assert fire.indicators["dept_callback_resolve_rate"] == 0.5
    assert fire.indicators["dept_callback_satisfaction_rate"] == 0.5
    assert counted_case_ids("department", today, "fire", "callbacks_done") == sorted([happy.pk, unhappy.pk])
    assert counted_case_ids("department", today, "fire", "callback_satisfied", slice_path=f"441900/{TOWN}/") == [
        happy.pk
    ]
    # Nothing counts for a department that did no work on the cases.
    others = [r for r in compute("department", today) if r.subject.key != "fire" and r.slice_path == ""]
    assert all(not r.measures.get("callbacks_done") for r in others)
