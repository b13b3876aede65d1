"""The Content-Security-Policy is on every HTML page and forbids inline script; the pages themselves
carry no inline script or event-handler attribute (the policy would block them, breaking the page).

Pages are found by crawling: every same-site link from the home page, as each kind of user."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from wangge.accounts.models import User
from wangge.demo_portal import seed_portal_demo
from wangge.web.csp import policy, tile_source

SKIP = ("/logout", "/i18n/", "/static/", "/media/", "export", "download", "/delete/", "/live/", "/api/")
PAGES_PER_USER = 90


class PageScan(HTMLParser):
    """Links to follow, and every inline script or handler attribute in the page."""

    def __init__(self):
        super().__init__()
        self.links, self.inline = [], []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.inline.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.inline.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.inline.append("<script> without src")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def crawl(client, start="/"):
    seen, queue, pages = {start}, deque([start]), {}
    while queue and len(pages) < PAGES_PER_USER:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code in (301, 302):
            links = [response["Location"]]
        elif response.get("Content-Type", "").startswith("text/html"):
            scan = PageScan()
            scan.feed(response.content.decode())
            pages[path] = (response, scan.inline)
            links = scan.links
        else:
            continue
        for href in links:
            url = urlsplit(urljoin(path, href))
            if url.netloc and url.netloc != "testserver":
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in seen and not any(s in target for s in SKIP):
                seen.add(target)
                queue.append(target)
    return pages


@pytest.mark.django_db
@pytest.mark.parametrize("username", [None, "admin", "city_dispatcher", "grid_manager", "fire_handler", "landlord"])
def test_every_html_page_has_the_policy_and_no_inline_script(username):
    client = Client()
    if username:
        client.force_login(User.objects.get(username=username))
    if username == "landlord":  # the portal: the landlord's own rental houses to crawl
        seed_portal_demo(log=lambda line: None)
    pages = crawl(client, "/admin/" if username == "admin" else "/")
    if username == "admin":
        pages.update(crawl(client, "/"))
    assert len(pages) >= (3 if username is None else 10), sorted(pages)
    for path, (response, inline) in pages.items():
        header = response.get("Content-Security-Policy")
        assert header, f"{path}: no Content-Security-Policy header"
        policy_ = directives(header)
        assert policy_["script-src"] == ["'self'"], f"{path}: {header}"
        assert "'unsafe-inline'" not in header.split("style-src")[0], f"{path}: {header}"
        assert policy_["object-src"] == ["'none'"] and policy_["base-uri"] == ["'self'"]
        assert not inline, f"{path}: inline script {inline}"


@pytest.mark.django_db
def test_error_pages_and_the_phone_app_carry_the_policy(client_as):
    client = client_as("grid_manager")
    for path in ("/no-such-page/", "/patrol/m/", "/patrol/m/sw.js", "/login/"):
        response = client.get(path)
        assert "script-src 'self'" in response["Content-Security-Policy"], path


def test_map_tiles_are_allowed_from_their_host_only():
    assert tile_source("") == "" and tile_source("/tiles/{z}/{x}/{y}.png") == ""
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org"
    amap = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"
    assert tile_source(amap) == "https://*.is.autonavi.com"
    assert "https://*.is.autonavi.com" in policy(amap)["img-src"]
    assert policy(amap)["script-src"] == ["'self'"]
    assert settings.SECURE_CSP["script-src"] == ["'self'"]
