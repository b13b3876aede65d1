"""The SQLite writer lock has a timeout: a writer that cannot get it in time is answered 503 with
Retry-After (JSON for the API, a page otherwise) instead of hanging; readers never wait for it."""

import fcntl
import io
import os
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client, RequestFactory
from PIL import Image

from wangge.core import faults
from wangge.core.sqlite.base import WriterBusy

pytestmark = [
    pytest.mark.serial,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SKIPPED: the writer lock is for SQLite only"),
]


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buf, "JPEG")
    return SimpleUploadedFile("p.jpg", buf.getvalue(), "image/jpeg")


class OtherProcessWriting:
    """Holds the writer's file lock the way another process's writer would (flock on a descriptor
    of its own), so this process's writers have to wait for it."""

    def __enter__(self):
        connection.ensure_connection()
        self.fd = os.open(connection._lock_path(), os.O_RDWR | os.O_CREAT)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def in_thread(fn, timeout):
    """fn() on another thread (another connection); (finished in time, its result)."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), out.get("value"), thread


def test_a_writer_that_cannot_get_the_lock_in_time_gets_503_json_with_retry_after(transactional_db, settings, tmp_path):
    settings.WANGGE_SQLITE_WRITER_TIMEOUT = 0.5
    settings.MEDIA_ROOT = tmp_path / "media"
    client = Client(raise_request_exception=False)
    client.get("/healthz")  # the URLs imported before the clock starts
    with OtherProcessWriting():
        start = time.monotonic()
        finished, response, thread = in_thread(lambda: client.post("/api/v1/public/photos", {"file": jpeg()}), 5)
        waited = time.monotonic() - start
    thread.join(10)
    assert finished, "the writer hung on the lock"
    assert response.status_code == 503 and response["Retry-After"] == str(settings.WANGGE_RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]
    assert 0.4 < waited < 3
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]  # its photo files went with it
    # The lock let go, the next writer goes through (the waiter let go of the lock it got too late).
    assert client.post("/api/v1/public/photos", {"file": jpeg()}).status_code == 201


def test_readers_do_not_wait_for_the_writer_lock(transactional_db, settings):
    settings.WANGGE_SQLITE_WRITER_TIMEOUT = 5
    client = Client(raise_request_exception=False)
    client.get("/healthz")
    with OtherProcessWriting():
        start = time.monotonic()
        finished, response, _thread = in_thread(lambda: client.get("/api/v1/public/cases/NOSUCHCASE"), 4)
        waited = time.monotonic() - start
    assert finished and response.status_code == 404 and waited < 2


def test_pages_answer_a_busy_database_with_a_503_page():
    request = RequestFactory().get("/cases/")
    try:
        raise WriterBusy("database is locked (waited 10 s for the writer lock)")
    except WriterBusy:
        response = faults.server_error(request)
    assert response.status_code == 503 and response["Retry-After"]
    assert response["Content-Type"].startswith("text/html") and "系统繁忙" in response.content.decode()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        api = faults.server_error(RequestFactory().get("/api/v1/cases"))  # outside the API's views: still JSON
    assert api.status_code == 500 and api["Content-Type"].startswith("application/json")
    assert "Retry-After" not in api and "a bug" not in api.content.decode()
