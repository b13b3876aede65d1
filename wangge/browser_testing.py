"""Browser-test helpers: headless Chromium (Debian's package) driven by Playwright against a live
server. The fixtures (browser, city, page, new_page) are in wangge/conftest.py; tests that use
them are marked `browser` and run in their own pass."""

import os
import shutil
from pathlib import Path

from wangge.demo import DEMO_PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain fixtures.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def log_in(page, username):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/")
