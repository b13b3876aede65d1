"""Periodic tasks under a lease: one run at a time across workers, a killed worker's lease ends
(at once when its process is gone from this machine), heartbeats, /readyz, the late-task alert."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.notify.models import Notification
from wangge.worker import health, lease
from wangge.worker.models import TaskBeat


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_worker_cannot_run_the_task_while_the_first_holds_it(db):
    assert lease.claim("cases-check-deadlines", "other-host:1:a")
    assert not lease.claim("cases-check-deadlines", "other-host:2:b")
    assert not lease.claim("cases-check-deadlines", f"{lease.HOST}:{os.getpid()}:c")
    lease.finish("cases-check-deadlines", "other-host:1:a")
    assert lease.claim("cases-check-deadlines", "other-host:2:b")


def test_a_lease_nobody_renews_ends(db, settings):
    settings.WORKER_LEASE_SECONDS = 45
    now = timezone.now()
    assert lease.claim("cases-check-deadlines", "other-host:1:a", now=now)
    assert not lease.claim("cases-check-deadlines", "other-host:2:b", now=now + timedelta(seconds=44))
    assert lease.claim("cases-check-deadlines", "other-host:2:b", now=now + timedelta(seconds=46))


def test_a_lease_of_a_dead_process_on_this_machine_is_taken_over_at_once(db):
    assert lease.claim("cases-check-deadlines", f"{lease.HOST}:{dead_pid()}:a")
    assert lease.claim("cases-check-deadlines", f"{lease.HOST}:{os.getpid()}:b")
    # but not that of a live process (the parent of this one)
    assert lease.claim("insight-refresh-figures", f"{lease.HOST}:{os.getppid()}:a")
    assert not lease.claim("insight-refresh-figures", f"{lease.HOST}:{os.getpid()}:b")


def test_a_run_writes_its_heartbeat_and_its_error(db):
    with lease.hold("cases-check-deadlines") as held:
        assert held
        beat = TaskBeat.objects.get(name="cases-check-deadlines")
        assert beat.lease_owner.startswith(f"{lease.HOST}:{os.getpid()}:") and beat.last_started
        with lease.hold("cases-check-deadlines") as again:  # another worker at the same time
            assert not again
    beat.refresh_from_db()
    assert beat.last_ok and not beat.lease_owner and beat.runs == 1 and not beat.last_error
    with pytest.raises(ZeroDivisionError), lease.hold("cases-check-deadlines"):
        raise ZeroDivisionError("the task failed")
    beat.refresh_from_db()
    assert "ZeroDivisionError" in beat.last_error and beat.last_error_at and not beat.lease_owner


def test_every_periodic_task_of_the_code_is_registered():
    assert {
        "cases-check-deadlines",
        "insight-refresh-figures",
        "patrol-plan-inspections",
        "notify-deliver-due",
        "worker-watch",
    } <= set(lease.registry())


def test_readyz_names_the_late_task_and_alerts_administrators_once(client, db, settings):
    settings.WORKER_LATE_MINUTES = 5
    now = timezone.now()
    assert client.get("/readyz").status_code == 503  # no worker has ever started
    lease.register_all(now=now - timedelta(hours=30))
    TaskBeat.objects.update(last_ok=now)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "late": []}

    TaskBeat.objects.filter(name="cases-check-deadlines").update(last_ok=now - timedelta(minutes=7))
    late = client.get("/readyz")
    assert late.status_code == 503 and [t["task"] for t in late.json()["late"]] == ["cases-check-deadlines"]
    stall = TaskBeat.objects.get(name="cases-check-deadlines").last_ok.isoformat()
    alerts = Notification.objects.filter(dedupe_key=f"task-late:cases-check-deadlines:{stall}")
    admins = set(health.administrators().values_list("pk", flat=True))
    assert admins and set(alerts.values_list("recipient", flat=True)) == admins
    client.get("/readyz")
    assert alerts.count() == len(admins)  # once per stall, not per probe
    assert "cases-check-deadlines" in alerts.first().subject

    # a run in progress (a live lease) is not late; the nightly planner is late only after a day
    TaskBeat.objects.filter(name="cases-check-deadlines").update(
        lease_owner="x:1:a", lease_until=now + timedelta(seconds=30)
    )
    TaskBeat.objects.filter(name="patrol-plan-inspections").update(last_ok=now - timedelta(hours=20))
    assert client.get("/readyz").status_code == 200


def test_administrators_see_the_heartbeats_in_the_admin(client_as, db):
    lease.register_all()
    with lease.hold("cases-check-deadlines"):
        pass
    page = client_as("admin").get("/admin/worker/taskbeat/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cases-check-deadlines" in html and "周期任务" in html
    assert client_as("city_dispatcher").get("/admin/worker/taskbeat/").status_code in (302, 403)
