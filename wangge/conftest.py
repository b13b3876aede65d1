"""Shared fixtures: the test city (real Dongguan divisions, two towns drawn, demo users per role)."""

import pytest
from django.test import Client

from wangge.accounts.actions import issue_token
from wangge.accounts.models import User
from wangge.areas.locate import invalidate_index
from wangge.demo import DEMO_PASSWORD, build_demo


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        build_demo("test", log=lambda line: None)


@pytest.fixture(autouse=True)
def fresh_locate_index():
    """Each test sees the boundaries of its own database state, not a rolled-back test's."""
    invalidate_index()
    yield
    invalidate_index()


@pytest.fixture
def user(db):
    """user("town_dispatcher") → that demo user."""
    return lambda username: User.objects.get(username=username)


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
