"""The workbench panels (the dispatcher's open summonses, the department's to report to: each count is
its list) and the evaluation's measures for departments."""

import datetime as dt

import pytest
from django.utils import timezone

from wangge.evaluation.compute import compute
from wangge.evaluation.period import by_dates
from wangge.summons import actions
from wangge.web import workbench

from .conftest import START

pytestmark = pytest.mark.django_db


@pytest.fixture
def four(clock, summon, place, user, police_handler):
    """Four summonses of the fire department: on time, late, never came (deadline passed), and one
    still within its deadline; the police summoned once and never came."""
    fire = user("fire_handler")
    on_time, late, missed = (
        summon(minutes=30),
        summon(minutes=30),
        summon(minutes=30, departments=["fire", "public_security"]),
    )
    actions.report_arrival(fire, on_time, lat=place[0], lng=place[1], accuracy=5)
    clock.shift(minutes=31)
    actions.report_arrival(fire, late, lat=place[0], lng=place[1], accuracy=5)
    actions.report_arrival(fire, missed, lat=place[0] + 0.05, lng=place[1], accuracy=5)  # too far: not counted
    pending = summon(minutes=60)
    return {"on_time": on_time, "late": late, "missed": missed, "pending": pending}


def test_the_departments_measures(four, clock):
    day = timezone.localdate()
    results = {(r.subject.key, r.slice_path): r for r in compute("department", by_dates(day, day))}
    fire = results[("fire", "")]
    assert {k: v for k, v in fire.measures.items() if k.startswith("summons")} == {
        "summonses": 4,
        "summons_on_time": 1,
        "summons_late": 1,
        "summons_missed": 1,  # the pending one is not missed yet
    }
    assert fire.indicators["dept_summons_on_time_rate"] == 0.25
    assert results[("fire", "441900/441900122/")].measures["summonses"] == 4  # the town's slice
    police = results[("public_security", "")].measures
    assert (police["summonses"], police["summons_missed"]) == (1, 1)
    # Read as of a moment before the deadlines: nobody missed anything yet, and the late arrival had not come.
    early = {(r.subject.key, r.slice_path): r for r in compute("department", by_dates(day, day), as_of=START)}
    assert early[("fire", "")].measures["summons_missed"] == 0
    assert early[("fire", "")].measures["summons_late"] == 0


def test_the_workbench_panels_count_their_lists(four, client_as, user, django_assert_max_num_queries):
    from wangge.web.tests.test_workbench import _warm, listed

    expected = {
        "village_dispatcher": ("summons", {"open": 4, "overdue": 1}),
        "fire_handler": ("summons_arrival", {"mine": 2, "mine_overdue": 1}),
    }
    for username, (key, counts) in expected.items():
        panel = next(p for p in workbench.panels_for(user(username)) if p.key == key)
        assert {t.key: t.count for t in panel.tiles} == counts
        client = client_as(username)
        for tile in panel.tiles:
            assert listed(client, tile.url) == tile.count, tile.url
        assert panel.rows and panel.rows[0].url.startswith("/summons/")
    for username, panel in (
        ("village_dispatcher", workbench.open_summonses),
        ("fire_handler", workbench.summonses_to_report),
    ):
        who = user(username)
        _warm(who)
        with django_assert_max_num_queries(2):
            panel(who)


def test_the_leader_and_grid_manager_get_no_summons_panel(db, user):
    for username in ("leader", "grid_manager", "city_dispatcher"):
        keys = {p.key for p in workbench.panels_for(user(username))}
        assert not keys & {"summons", "summons_arrival"}, username


def test_the_deadline_window_is_the_clock_not_the_phone(clock, summon, user, place):
    summons = summon(arrive_by=(clock.now() + dt.timedelta(minutes=10)).isoformat())
    clock.shift(minutes=10, seconds=1)
    (arrival,) = actions.report_arrival(user("fire_handler"), summons, lat=place[0], lng=place[1], accuracy=3)
    assert arrival.late and arrival.at == clock.now()
