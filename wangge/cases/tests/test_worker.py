"""The real background worker: `wangge run_huey` in its own process, on the test database, with
its queue in SQLite (the embedded default) or in Redis. A case past its deadline is marked overdue
and its reminder goes out by SMS (to a gateway in this process that records every request); the
worker is stopped, another deadline passes while it is down, and the worker started again catches
up — nothing lost, nothing sent twice."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from wangge.accounts.models import User
from wangge.cases import actions
from wangge.cases.models import Assignment, Case, CaseEvent
from wangge.notify.models import Channel, Notification, Status
from wangge.notify.tests.conftest import Receiver

from .conftest import VILLAGE_A_GRID, act, point_in

pytestmark = pytest.mark.serial

REDIS_TEST_URL = os.environ.get("WANGGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")  # a spare database
WAIT_SECONDS = 90


def redis_or_skip(url):
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"SKIPPED: Redis is not reachable at {url} ({exc})")
    client.flushdb()  # our spare database: no queue left over from an earlier run
    return client


def database_env() -> dict:
    """Environment that points another process at this test database."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        return {"DATABASE_URL": url}
    return {"WANGGE_SQLITE_PATH": str(db["NAME"])}


class Worker:
    def __init__(self, env):
        self.env, self.proc = env, None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "django", "run_huey", "--workers", "2", "--worker-type", "thread"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.env["WANGGE_VAR_DIR"], "worker.log"), "ab"),  # noqa: SIM115
        )

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # graceful: running tasks finish
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def worker(request, city, tmp_path):
    """worker.start() / worker.stop(): the task worker on this test database; .gateway records SMS."""
    gateway = Receiver()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "wangge.settings",
        "WANGGE_VAR_DIR": str(tmp_path),  # its own task queue file (SqliteHuey) and static dir
        "SECRET_KEY": settings.SECRET_KEY,
        "WANGGE_PII_KEY": settings.PII_KEY,  # to read the phone numbers this process encrypted
        "WANGGE_SMS_BACKEND": "wangge.notify.sms.HttpSmsBackend",
        "WANGGE_SMS_GATEWAY_URL": gateway.url + "/sms",
        "WANGGE_TASKS_IMMEDIATE": "0",
    }
    env.pop("REDIS_URL", None)
    if request.param == "redis-queue":
        redis_or_skip(REDIS_TEST_URL)
        env["REDIS_URL"] = REDIS_TEST_URL
    if connection.vendor != "postgresql":
        env.pop("DATABASE_URL", None)
    w = Worker(env)
    w.gateway, w.log = gateway, tmp_path / "worker.log"
    yield w
    w.stop()
    gateway.close()


def wait_for(condition, what, worker):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.proc is not None and worker.proc.poll() is not None:
            break
        time.sleep(0.25)
    log = worker.log.read_text()[-3000:] if worker.log.exists() else ""
    pytest.fail(f"the worker did not {what} within {WAIT_SECONDS} s; its log ends:\n{log}")


def case_past_its_deadline(description):
    """A case dispatched to the fire brigade and accepted, whose deadline (and reminder) lie in the past."""
    lat, lng = point_in(VILLAGE_A_GRID)
    case, _ = actions.report_case(
        actions.Report(description=description, channel="hotline", lat=lat, lng=lng), User.objects.get(username="admin")
    )
    act(case, "village_dispatcher", "dispatch", departments=["fire"], hours=48)
    act(case, "fire_handler", "accept")
    past = timezone.now() - timedelta(minutes=10)
    Assignment.objects.filter(case=case).update(deadline=past, remind_at=past - timedelta(hours=24))
    return Case.objects.get(pk=case.pk)


def reminder_sms(case):
    return Notification.objects.filter(channel=Channel.SMS, dedupe_key=f"assignment:{case.assignments.get().pk}:remind")


def sms_sent_for(worker, case) -> list[dict]:
    return [r for r in worker.gateway.requests if case.number.encode() in r["body"]]


def overdue_and_told(worker, case):
    assignment = case.assignments.get()
    return (
        assignment.overdue_at is not None
        and Case.objects.get(pk=case.pk).is_overdue
        and reminder_sms(case).filter(status=Status.SENT).exists()
        and len(sms_sent_for(worker, case)) >= 1
    )


def test_the_worker_marks_overdue_reminds_and_catches_up_after_a_stop(worker):
    handlers = User.objects.filter(memberships__role="department_handler", memberships__department__code="fire")
    assert any(u.phone for u in handlers), "the fire brigade's handler needs a phone for the SMS reminder"
    first = case_past_its_deadline("消防通道堵塞（工作进程测试一）")

    worker.start()
    wait_for(lambda: overdue_and_told(worker, first), "mark the first case overdue and send its reminder", worker)
    worker.stop()

    # While the worker is down, a second deadline passes: nothing happens to it yet.
    second = case_past_its_deadline("消防通道堵塞（工作进程测试二）")
    time.sleep(2)
    assert second.assignments.get().overdue_at is None and not reminder_sms(second).exists()

    worker.start()
    wait_for(lambda: overdue_and_told(worker, second), "catch up on the second case", worker)
    time.sleep(3)  # give a second sweep the chance to repeat something (it must not)
    worker.stop()

    for case in (first, second):
        # Exactly one overdue mark and one reminder per case, delivered once, by one request.
        assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
        assert reminder_sms(case).count() == reminder_sms(case).filter(status=Status.SENT, attempts=1).count() >= 1
        requests = sms_sent_for(worker, case)
        keys = [r["headers"]["Idempotency-Key"] for r in requests]
        assert len(keys) == len(set(keys)) == reminder_sms(case).count(), keys
    # The dispatchers were told in the app, once per case.
    for case in (first, second):
        key = f"assignment:{case.assignments.get().pk}:overdue"
        told = Notification.objects.filter(channel=Channel.INAPP, dedupe_key=key)
        assert told.exists() and told.count() == told.values("recipient").distinct().count()
