"""The heat map of cases: binned in the database per ~cell metres, of the user's jurisdiction only,
for a period and a category; the same in the API and on the command page."""

import math
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wangge.areas.models import Area
from wangge.cases.models import Case, Status
from wangge.insight import figures, queries

from .conftest import VILLAGE_B_GRID, point_in

pytestmark = pytest.mark.django_db
TOWN, VILLAGE_A, VILLAGE_B = "441900122", "441900122002", "441900122003"


def place(case, lat, lng, days_ago=0):
    Case.objects.filter(pk=case.pk).update(lat=lat, lng=lng, created_at=timezone.now() - timedelta(days=days_ago))


def total(data):
    return sum(p[2] for p in data["points"])


def test_binning_counts_each_case_in_its_bin(new_case, user):
    lat, lng = point_in("441900122002001")
    offsets = [(0, 0), (0.0002, 0.0001), (0.0001, 0.0003), (0.01, 0.0), (0.01, 0.0004), (0.0, 0.02)]
    for dy, dx in offsets:
        place(new_case(), lat + dy, lng + dx)
    town = Area.objects.get(code=TOWN)
    period = figures.period_from("30d")
    for cell in (50, 250, 5000):
        data = queries.heat(user("town_dispatcher"), town, period, cell_m=cell)
        dlat, dlng = queries.bin_size(cell, town.centroid_lat)
        expected = Counter((math.floor((lat + dy) / dlat), math.floor((lng + dx) / dlng)) for dy, dx in offsets)
        got = {(math.floor(p[0] / dlat), math.floor(p[1] / dlng)): p[2] for p in data["points"]}
        assert got == dict(expected), cell
        assert data["count"] == 6 and data["max"] == max(expected.values()) and data["cell_m"] == cell
        for p in data["points"]:  # the centre of its bin
            assert abs(p[0] / dlat % 1 - 0.5) < 1e-3 and abs(p[1] / dlng % 1 - 0.5) < 1e-3


def test_cases_at_bin_centres_come_back_exactly(new_case, user):
    town = Area.objects.get(code=TOWN)
    dlat, dlng = queries.bin_size(250, town.centroid_lat)
    lat, lng = point_in("441900122002001")
    i, j = math.floor(lat / dlat), math.floor(lng / dlng)
    centre = lambda y, x: [round((y + 0.5) * dlat, 6), round((x + 0.5) * dlng, 6)]  # noqa: E731
    for y, x in ((i, j), (i, j), (i + 1, j), (i, j + 2)):
        place(new_case(), (y + 0.5) * dlat, (x + 0.5) * dlng)
    data = queries.heat(user("town_dispatcher"), town, figures.period_from("today"), cell_m=250)
    assert data["points"] == [[*centre(i, j), 2], [*centre(i, j + 2), 1], [*centre(i + 1, j), 1]]


def test_period_category_and_merged(new_case, user):
    town = Area.objects.get(code=TOWN)
    recent = new_case(matter_item="fire_exit")
    old = new_case(matter_item="fire_exit")
    other = new_case()
    merged = new_case(matter_item="fire_exit")
    Case.objects.filter(pk=merged.pk).update(status=Status.MERGED)
    lat, lng = point_in("441900122002001")
    place(old, lat, lng, days_ago=40)
    dispatcher = user("town_dispatcher")
    in_30d = queries.heat(dispatcher, town, figures.period_from("30d"))
    assert in_30d["count"] == 2  # recent + other; old is outside, merged aside
    today = timezone.localdate()
    wide = figures.period_from("", (today - timedelta(days=60)).isoformat(), today.isoformat())
    assert queries.heat(dispatcher, town, wide)["count"] == 3
    category = f"{recent.category.kind}:{recent.category.code}"
    assert queries.heat(dispatcher, town, wide, category=category)["count"] == 2
    assert queries.heat(dispatcher, town, wide, category=f"{recent.category.kind}:nonesuch")["count"] == 0
    assert other.category_id != recent.category_id


@pytest.mark.parametrize(
    "username,area,a,b",
    [
        ("village_dispatcher", "", 1, 0),
        ("village_dispatcher", VILLAGE_A, 1, 0),
        ("town_dispatcher", "", 1, 1),
        ("town_dispatcher", VILLAGE_B, 0, 1),
        ("city_dispatcher", TOWN, 1, 1),
    ],
)
def test_api_gives_only_the_jurisdiction(new_case, api_as, username, area, a, b):
    mine = new_case()
    theirs = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    for case, dy in ((mine, 0), (theirs, 0)):
        place(case, case.lat + dy, case.lng)
    response = api_as(username).get("/api/v1/insight/heat", area=area, period="30d", cell=50)
    assert response.status_code == 200
    data = response.json()
    near = lambda c, p: abs(p[0] - c.lat) < 0.001 and abs(p[1] - c.lng) < 0.001  # noqa: E731
    assert sum(p[2] for p in data["points"] if near(mine, p)) == a
    assert sum(p[2] for p in data["points"] if near(theirs, p)) == b
    assert data["count"] == a + b


def test_api_refuses_other_villages_and_bad_input(new_case, api_as):
    new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    village = api_as("village_dispatcher")
    assert village.get("/api/v1/insight/heat", area=VILLAGE_B).status_code == 404
    assert village.get("/api/v1/insight/heat", area=TOWN).status_code == 404
    assert total(village.get("/api/v1/insight/heat", period="year").json()) == 0
    assert api_as("grid_manager").get("/api/v1/insight/heat").status_code == 403
    for bad in (10, 10_000):
        response = village.get("/api/v1/insight/heat", cell=bad)
        assert response.status_code == 400 and "cell" in response.json()["errors"]


def test_the_command_page_offers_the_heat_layer(client_as):
    body = client_as("village_dispatcher").get("/command/").content.decode()
    assert 'data-heat="/api/v1/insight/heat"' in body and "leaflet-heat.js" in body
    assert 'id="heat-filters"' in body and 'name="category"' in body


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SKIPPED: SQLite's planner only (PostgreSQL has range stats)")
def test_on_sqlite_a_towns_month_reads_through_the_path_range_not_the_citys_month(new_case, user):
    """SQLite has no statistics on ranges: with both a period and a path range it walked the
    created_at index, i.e. the whole city's period, for a town's heat map."""
    place(new_case(), *point_in("441900122002001"), days_ago=3)
    town = Area.objects.get(code=TOWN)
    with CaptureQueriesContext(connection) as captured:
        assert total(queries.heat(user("town_dispatcher"), town, figures.period_from("30d"))) == 1
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {captured.captured_queries[-1]['sql']}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "area_path" in plan and "created_at" not in plan, plan
