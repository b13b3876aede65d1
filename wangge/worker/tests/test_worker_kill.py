"""The deadline clock after a worker is killed inside the task: a real `wangge run_huey` process
(its queue in SQLite under a temporary var dir, on the test database) is killed with SIGKILL while
check_case_deadlines holds its lease; a worker started again runs the task at its next minute, and
the case past its deadline is marked overdue. (With huey's lock_task the lock stayed forever.)"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from wangge.cases.models import Assignment
from wangge.cases.tests.test_worker import Worker, case_past_its_deadline, database_env
from wangge.worker.models import TaskBeat

pytestmark = pytest.mark.serial

TASK = "cases-check-deadlines"


def wait(condition, what, seconds, worker):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    log = worker.log.read_text()[-3000:] if worker.log.exists() else ""
    pytest.fail(f"the worker did not {what} within {seconds} s; its log ends:\n{log}")


@pytest.fixture
def worker(city, tmp_path):
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "wangge.settings",
        "WANGGE_VAR_DIR": str(tmp_path),
        "SECRET_KEY": settings.SECRET_KEY,
        "WANGGE_PII_KEY": settings.PII_KEY,
        "WANGGE_TASKS_IMMEDIATE": "0",
        "WANGGE_WORKER_TEST_HOLD_FILE": str(tmp_path / "hold"),
    }
    env.pop("REDIS_URL", None)
    w = Worker(env)
    w.log, w.hold = tmp_path / "worker.log", tmp_path / "hold"
    yield w
    w.stop()


def enqueue_now(worker):
    """What the scheduler does each minute, now: put the task on the worker's queue."""
    code = "from wangge.cases.tasks import check_case_deadlines as task; task()"
    subprocess.run(
        [sys.executable, "-m", "django", "shell", "-c", code], cwd=settings.BASE_DIR, env=worker.env, check=True
    )


def test_a_worker_killed_inside_the_deadline_task_does_not_stop_the_clock(worker):
    case = case_past_its_deadline("消防通道堵塞（进程被杀测试）")
    worker.hold.write_text(TASK)
    worker.start()
    enqueue_now(worker)
    inside = Path(f"{worker.hold}.inside")
    wait(inside.exists, "enter the deadline task", 60, worker)
    killed = worker.proc.pid
    beat = TaskBeat.objects.get(name=TASK)
    assert beat.lease_owner.split(":")[1] == str(killed) and beat.lease_until
    worker.proc.kill()  # SIGKILL: no cleanup of any kind
    worker.proc.wait()
    worker.proc = None
    assert Assignment.objects.get(case=case).overdue_at is None

    worker.hold.unlink()
    restarted = time.monotonic()
    worker.start()  # its scheduler runs the task at the next minute: nobody enqueues it by hand
    wait(lambda: Assignment.objects.get(case=case).overdue_at is not None, "mark the case overdue", 90, worker)
    took = time.monotonic() - restarted
    print(f"\nthe deadline task ran {took:.0f} s after the killed worker was restarted")
    assert took <= 75  # the next minute (and the worker's start)
    # The case is marked inside the task; the beat records the run's end just after: wait for it.
    wait(lambda: TaskBeat.objects.get(name=TASK).last_ok is not None, "record the run's success", 30, worker)
    beat = TaskBeat.objects.get(name=TASK)
    assert beat.runs >= 2 and beat.last_ok and not beat.last_error
    assert "unable to acquire lock" not in worker.log.read_text()
