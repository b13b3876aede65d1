"""A user's memberships are read once per user instance (once per request), and everything worked
out from them (roles, scope, case roles, command areas, permissions) follows a change at once."""

import copy
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.accounts import actions
from wangge.accounts.models import Membership, Role, User
from wangge.accounts.scope import scope_for
from wangge.areas.models import Area
from wangge.cases import actions as case_actions
from wangge.cases import roles as case_roles
from wangge.evaluation.appeals import may_decide
from wangge.insight.access import command_areas

LIAOBU = "441900111"
GRID_A = "441900122002001"


def own_membership_queries(queries, user) -> list[str]:
    """The captured statements that read this user's memberships (other users' do not count)."""
    pattern = re.compile(rf'"accounts_membership"\."user_id" (= {user.pk}\b|IN \({user.pk}\))')
    return [q["sql"] for q in queries if "accounts_membership" in q["sql"] and pattern.search(q["sql"])]


@pytest.fixture
def dispatched_case(db):
    """A case in grid A, registered and dispatched to the fire department (every role below sees it)."""
    area = Area.objects.get(code=GRID_A)
    report = case_actions.Report(
        description="消防通道被杂物堵塞", channel="grid_manager", lat=area.centroid_lat, lng=area.centroid_lng
    )
    case, _created = case_actions.report_case(report, User.objects.get(username="grid_manager"))
    dispatcher = User.objects.get(username="village_dispatcher")
    for action, params in (("register", {}), ("dispatch", {"departments": ["fire"]})):
        case.refresh_from_db()
        case_actions.transition(case, dispatcher, action, version=case.version, **params)
    return case


PAGES = [
    ("village_dispatcher", "/"),
    ("village_dispatcher", "/cases/"),
    ("village_dispatcher", "/cases/{case}/"),
    ("village_dispatcher", "/command/"),
    ("town_dispatcher", "/command/"),
    ("grid_manager", "/"),
    ("grid_manager", "/cases/{case}/"),
    ("fire_handler", "/cases/{case}/"),
    ("leader", "/"),
    ("citizen", "/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("username,url", PAGES)
def test_a_page_reads_the_users_memberships_once(client_as, dispatched_case, username, url):
    """Before: the workbench, the queue, the case page and the command center read them 13–15 times."""
    client = client_as(username)
    url = url.format(case=dispatched_case.pk)
    assert client.get(url).status_code == 200  # the process's reference caches warmed
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert len(own_membership_queries(captured.captured_queries, User.objects.get(username=username))) == 1


@pytest.mark.django_db
def test_an_api_token_request_reads_no_membership(api_as):
    """The token cache prefetches the memberships with their places: the request reads none."""
    api = api_as("town_dispatcher")
    assert api.get("/api/v1/cases").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/cases").status_code == 200
        assert api.get("/api/v1/me").json()["memberships"][0]["area_code"] == "441900122"
    assert own_membership_queries(captured.captured_queries, User.objects.get(username="town_dispatcher")) == []


@pytest.mark.django_db
def test_a_membership_added_or_removed_through_the_actions_is_seen_at_once_by_the_same_instance(
    django_assert_num_queries,
):
    worker = User.objects.get(username="grid_manager2")
    liaobu = Area.objects.get(code=LIAOBU)
    # Everything worked out before the change, as a request would have.
    assert not worker.has_role(Role.TOWN_DISPATCHER)
    assert not scope_for(worker).covers_path(liaobu.path)
    assert not case_roles.is_dispatcher(worker) and not command_areas(worker) and not may_decide(worker)

    membership = actions.add_membership(worker, Role.TOWN_DISPATCHER, area=liaobu)
    with django_assert_num_queries(1):  # read again once, then everything follows from that list
        assert worker.has_role(Role.TOWN_DISPATCHER)
        assert scope_for(worker).covers_path(liaobu.path)
        assert case_roles.is_dispatcher(worker) and may_decide(worker)
        assert [a.code for a in command_areas(worker)] == [LIAOBU]
    with django_assert_num_queries(0):  # and kept
        assert worker.roles == {Role.GRID_MANAGER, Role.TOWN_DISPATCHER} and case_roles.is_dispatcher(worker)

    actions.remove_membership(membership)
    assert worker.roles == {Role.GRID_MANAGER}
    assert not scope_for(worker).covers_path(liaobu.path)
    assert not case_roles.is_dispatcher(worker) and not command_areas(worker) and not may_decide(worker)


@pytest.mark.django_db
def test_a_membership_removed_through_the_users_own_list_is_forgotten(user):
    leader = user("leader")
    assert leader.has_role(Role.LEADER) and scope_for(leader).area_paths
    actions.remove_membership(leader.membership_list[0])  # its .user is this very instance
    assert leader.roles == frozenset() and scope_for(leader).area_paths == ()


@pytest.mark.django_db
def test_a_membership_written_directly_or_a_deactivation_is_seen_too(user):
    citizen = user("citizen")
    assert citizen.is_personal and not citizen.has_perm("privacy.reveal_personal_data")
    Membership.objects.create(user=citizen, role=Role.GRID_MANAGER, area=Area.objects.get(code=GRID_A))
    assert not citizen.is_personal and citizen.has_perm("privacy.reveal_personal_data")
    assert scope_for(citizen).covers_path(Area.objects.get(code=GRID_A).path)

    actions.update_user(citizen, is_active=False)
    assert scope_for(citizen).area_paths == () and not scope_for(citizen).covers_path(GRID_A)


@pytest.mark.django_db
def test_refresh_from_db_reads_the_memberships_again(user):
    handler = user("fire_handler")
    assert handler.has_role(Role.DEPARTMENT_HANDLER)
    Membership.objects.filter(user=handler).delete()  # a queryset write: no instance to tell
    handler.refresh_from_db()
    assert handler.roles == frozenset() and not scope_for(handler).department_ids


@pytest.mark.django_db
def test_a_copied_user_starts_without_the_originals_worked_out_values(user):
    """The API token cache hands out a copy per request: values one request works out stay its own."""
    original = user("grid_manager")
    assert original.roles == {Role.GRID_MANAGER}
    duplicate = copy.copy(original)
    Membership.objects.create(user=duplicate, role=Role.LANDLORD)
    assert duplicate.roles == {Role.GRID_MANAGER, Role.LANDLORD}
    assert original.roles == {Role.GRID_MANAGER}  # its own list, read before the change
