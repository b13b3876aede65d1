"""Two dispatchers act on one case at the same moment: one wins, the other gets a conflict.
Real threads, real transactions, on the configured database (SQLite file or PostgreSQL)."""

import threading

import pytest
from django.db import connection

from wangge.accounts.models import User
from wangge.cases import actions
from wangge.cases.models import Case, Status

from .conftest import point_in

pytestmark = pytest.mark.serial


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_dispatchers_one_wins_the_other_gets_a_conflict(city):
    lat, lng = point_in("441900122002001")
    case, _ = actions.report_case(
        actions.Report(description="并发测试", channel="hotline", lat=lat, lng=lng), User.objects.get(username="admin")
    )
    village, town = User.objects.get(username="village_dispatcher"), User.objects.get(username="town_dispatcher")
    results = run_together(
        lambda: actions.transition(case.pk, village, "dispatch", version=1, departments=["fire"]),
        lambda: actions.transition(case.pk, town, "reject", version=1, note="重复"),
    )
    winners = [r for r in results if isinstance(r, Case)]
    conflicts = [r for r in results if isinstance(r, actions.StaleVersion)]
    assert len(winners) == 1 and len(conflicts) == 1, results
    case.refresh_from_db()
    assert case.version == 2 and case.status in (Status.HANDLING, Status.REJECTED)
    assert case.events.count() == 2  # the report and the one winning action


def test_the_same_idempotency_key_twice_at_once_makes_one_case(city):
    lat, lng = point_in("441900122002001")
    manager = User.objects.get(username="grid_manager")

    def submit():
        report = actions.Report(description="重复提交", channel="grid_manager", lat=lat, lng=lng, idempotency_key="k-1")
        return actions.report_case(report, manager)[0].pk

    results = run_together(submit, submit, submit)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1 and Case.objects.filter(description="重复提交").count() == 1
