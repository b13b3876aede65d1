"""PostgreSQL: a web thread's kept connection killed under it (a server restart, a failover,
pg_terminate_backend) costs no request: connections are health-checked before reuse
(CONN_HEALTH_CHECKS with CONN_MAX_AGE). Against a real gunicorn (Django's test client and live
server never keep a connection from one request to the next)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [
    pytest.mark.serial,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIPPED: PostgreSQL only"),
]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def server(db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db_settings = connection.settings_dict
    url = f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/{db_settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "wangge.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1"],
        cwd=settings.BASE_DIR,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                get(base + "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_next_request_after_the_connections_are_killed_succeeds(server):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] and settings.DATABASES["default"]["CONN_MAX_AGE"]
    url = server + "/api/v1/public/cases/NOSUCHCASE"  # one query: 404 when the database answers
    assert get(url) == 404
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1  # the server's kept connection
    assert [get(url) for _ in range(3)] == [404, 404, 404]
