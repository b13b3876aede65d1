"""Two publishers publish the same draft at the same moment through the API: one wins (200), the
other gets 409, and the period has exactly one published revision. Real threads, real transactions,
on the configured database (SQLite file or PostgreSQL)."""

import threading

import pytest
from django.db import connection

from wangge.accounts.actions import issue_token
from wangge.accounts.models import User
from wangge.conftest import ApiClient
from wangge.evaluation import actions
from wangge.evaluation.models import Report, ReportStatus, Scheme
from wangge.evaluation.period import last_month

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


def test_two_publishers_one_wins_the_other_gets_409(city):
    report = actions.compute_report(Scheme.objects.get(code="cjj-department"), last_month())
    clients = [ApiClient(issue_token(User.objects.get(username=name))) for name in ("admin", "city_dispatcher")]
    url = f"/api/v1/evaluation/reports/{report.pk}/publish"
    results = run_together(*(lambda c=c: c.post(url, {"reason": "同时发布"}) for c in clients))
    statuses = sorted(getattr(r, "status_code", r) for r in results)
    assert statuses == [200, 409], results
    published = Report.objects.filter(scheme=report.scheme, period_key=report.period_key, status=ReportStatus.PUBLISHED)
    assert [r.revision for r in published] == [1]
