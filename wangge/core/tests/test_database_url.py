"""DATABASE_URL chooses the database: sqlite:///path gets wangge's own SQLite engine with the
default's options (PostgreSQL's server-side binding would make the connection fail), postgres://
keeps server-side binding. Checked in a fresh process, as settings are read once at start."""

import json
import os
import subprocess
import sys

from django.conf import settings

SHOW = (
    "import json; from django.conf import settings; from django.db import connection;"
    "d = settings.DATABASES['default'];"
    "connection.ensure_connection();"  # a SQLite file connects; a bad option would fail here
    "print(json.dumps({'engine': d['ENGINE'], 'name': str(d['NAME']), 'options': d.get('OPTIONS', {}),"
    "'vendor': connection.vendor, 'journal': connection.cursor().execute('PRAGMA journal_mode').fetchone()[0]"
    " if connection.vendor == 'sqlite' else None}))"
)


def run(tmp_path, url, code=SHOW):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "wangge.settings",
        "WANGGE_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_sqlite_database_url_uses_the_wangge_sqlite_engine_with_the_default_options(tmp_path):
    path = tmp_path / "other.sqlite3"
    result = run(tmp_path, f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["engine"] == "wangge.core.sqlite"
    assert shown["name"] == str(path)
    assert "server_side_binding" not in shown["options"]
    assert shown["options"]["transaction_mode"] == "IMMEDIATE"
    assert shown["journal"] == "wal"
    assert path.exists()


def test_manage_py_check_runs_on_a_sqlite_database_url(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
        "WANGGE_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, "wangge/manage.py", "check", "--database", "default"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_an_in_memory_sqlite_url_is_refused_with_a_clear_reason(tmp_path):
    result = run(tmp_path, "sqlite://:memory:")
    assert result.returncode != 0
    assert "SQLite needs a file" in result.stderr


def test_a_postgres_url_keeps_server_side_binding(tmp_path):
    code = (
        "import json; from django.conf import settings; d = settings.DATABASES['default'];"
        "print(json.dumps({'engine': d['ENGINE'], 'options': d['OPTIONS']}))"
    )
    result = run(tmp_path, "postgres://wangge@127.0.0.1:5432/wangge", code)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["options"]["server_side_binding"] is True
