"""Per-role jurisdiction: every demo user sees their own areas and gets 404 elsewhere, in pages and API."""

import pytest

from wangge.accounts.scope import restrict, scope_for
from wangge.areas.models import Area

HOUJIE, LIAOBU = "441900122", "441900111"
VILLAGE_A, VILLAGE_B = "441900122002", "441900122003"
GRID_A, GRID_B = VILLAGE_A + "001", VILLAGE_B + "001"
DONGCHENG = "441900003"

# username → (areas they must see, areas that must be 404)
EXPECTED = {
    "admin": ([GRID_A, LIAOBU, DONGCHENG, "441900"], []),
    "city_dispatcher": ([GRID_A, LIAOBU, DONGCHENG, "441900"], []),
    "town_dispatcher": ([HOUJIE, VILLAGE_A, GRID_B], [LIAOBU, DONGCHENG, "441900"]),
    "liaobu_dispatcher": ([LIAOBU], [HOUJIE, GRID_A, "441900"]),
    "village_dispatcher": ([VILLAGE_A, GRID_A], [VILLAGE_B, GRID_B, HOUJIE, LIAOBU]),
    "grid_manager": ([GRID_A], [VILLAGE_A, GRID_B, HOUJIE, LIAOBU]),
    "grid_manager2": ([GRID_B], [GRID_A, VILLAGE_B]),
    "leader": ([HOUJIE, GRID_A], [LIAOBU, "441900"]),
    "fire_handler": (["441900", GRID_A], []),  # a city department serves the whole city
    "landlord": ([], [GRID_A, HOUJIE, "441900"]),
    "citizen": ([], [GRID_A, HOUJIE, "441900"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_area_pages_per_role(client_as, username):
    visible, hidden = EXPECTED[username]
    client = client_as(username)
    refused = 403 if username in ("landlord", "citizen") else 404  # the portal's users: no staff page at all
    for code in visible:
        assert client.get(f"/areas/{code}/").status_code == 200, code
        assert client.get(f"/areas/{code}/geojson/").status_code == 200, code
    for code in hidden:
        assert client.get(f"/areas/{code}/").status_code == refused, code
        assert client.get(f"/areas/{code}/geojson/").status_code == refused, code
        assert client.get(f"/areas/{code}/children/").status_code == refused, code


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_area_api_per_role(api_as, username):
    visible, hidden = EXPECTED[username]
    api = api_as(username)
    for code in visible:
        response = api.get(f"/api/v1/areas/{code}")
        assert response.status_code == 200, code
        assert response.json()["code"] == code
    for code in hidden:
        assert api.get(f"/api/v1/areas/{code}").status_code == 404, code
        assert api.get(f"/api/v1/areas/{code}/history").status_code == 404, code


@pytest.mark.django_db
def test_lists_hold_only_the_jurisdiction(api_as, user):
    villages = api_as("town_dispatcher").get("/api/v1/areas", level="village", limit=1000).json()
    codes = {v["code"] for v in villages["items"]}
    assert codes == set(Area.objects.filter(parent__code=HOUJIE).values_list("code", flat=True))
    assert villages["count"] == len(codes) == 24
    grids = api_as("grid_manager").get("/api/v1/areas").json()["items"]
    assert [g["code"] for g in grids] == [GRID_A]
    assert api_as("citizen").get("/api/v1/areas").json()["count"] == 0
    everything = restrict(Area.objects.all(), user("city_dispatcher")).count()
    assert everything == Area.objects.count()


@pytest.mark.django_db
def test_tree_page_starts_at_the_users_roots(client_as):
    page = client_as("village_dispatcher").get("/areas/").content.decode()
    assert f'href="/areas/{VILLAGE_A}/"' in page and f'href="/areas/{HOUJIE}/"' not in page
    # Breadcrumbs link only to what the user may open.
    detail = client_as("grid_manager").get(f"/areas/{GRID_A}/").content.decode()
    assert f'href="/areas/{VILLAGE_A}/"' not in detail


@pytest.mark.django_db
def test_scope_merges_nested_memberships(user):
    from wangge.accounts.actions import add_membership

    u = user("village_dispatcher")
    add_membership(u, "grid_manager", area=Area.objects.get(code=GRID_A))
    add_membership(u, "village_dispatcher", area=Area.objects.get(code=VILLAGE_B))
    u = user("village_dispatcher")
    assert scope_for(u).area_paths == (
        Area.objects.get(code=VILLAGE_A).path,
        Area.objects.get(code=VILLAGE_B).path,
    )


@pytest.mark.django_db
def test_anonymous_gets_login_page_and_401():
    from django.test import Client

    client = Client()
    response = client.get(f"/areas/{GRID_A}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/api/v1/areas").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
