"""Shared fixtures: the test city (real Dongguan divisions, two towns drawn, demo users per role)."""

import pytest
from django.core.cache import cache
from django.test import Client

from wangge.accounts.actions import issue_token
from wangge.accounts.models import User
from wangge.areas.locate import invalidate_index
from wangge.core import refcache
from wangge.demo import DEMO_PASSWORD, build_demo


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        build_demo("test", log=lambda line: None)


@pytest.fixture(autouse=True)
def fresh_locate_index():
    """Each test sees the boundaries of its own database state, not a rolled-back test's."""
    invalidate_index()
    refcache.invalidate_all()  # and the per-process reference rows (matter items, rules, ...)
    cache.clear()  # and the rate limits' counts (core.ratelimit): every test starts within them
    yield
    invalidate_index()
    refcache.invalidate_all()


@pytest.fixture
def user(db):
    """user("town_dispatcher") → that demo user."""
    return lambda username: User.objects.get(username=username)


@pytest.fixture
def town_call_taker(db):
    """A hotline operator of 厚街 only (the demo's `hotline` answers for the whole city): its username."""
    from wangge.accounts import actions as account_actions
    from wangge.accounts.models import Role
    from wangge.areas.models import Area

    operator = User.objects.create_user("houjie_hotline", password="x", full_name="厚街热线坐席")
    account_actions.add_membership(operator, Role.CALL_TAKER, area=Area.objects.get(code="441900122"))
    return operator.username


@pytest.fixture
def client_as(db):
    """client_as("grid_manager") → a test client logged in (session) as that demo user."""

    def make(username):
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    return make


class ApiClient:
    """A client that talks to the API with a bearer token, like another system would."""

    def __init__(self, token):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def api_as(db):
    """api_as("town_dispatcher") → an API client with that user's token; api_as(None) is anonymous."""
    return lambda username: ApiClient(issue_token(User.objects.get(username=username)) if username else None)


@pytest.fixture
def demo_password():
    return DEMO_PASSWORD


# Browser tests (marked `browser`): headless Chromium against a live server on a committed database.


@pytest.fixture(scope="session")
def browser():
    from wangge.browser_testing import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM:
        pytest.skip("SKIPPED: chromium is not installed (scripts/ensure-chromium.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def city(transactional_db):
    """The test city in a committed database (transactional tests flush it afterwards)."""
    build_demo("test", log=lambda line: None)


@pytest.fixture
def new_page(browser, live_server, city):
    """new_page() → a page in a fresh browser context (its own cookies), at desktop size."""
    contexts = []

    def make(viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 860}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def huey_immediate():
    """Queued tasks run at once, in the test's process and transaction."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = before
