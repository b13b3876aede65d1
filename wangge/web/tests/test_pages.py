import pytest
from django.test import Client

from wangge.areas.models import Area


@pytest.mark.django_db
def test_home_in_chinese_by_default_and_english_on_request(client_as):
    client = client_as("town_dispatcher")
    page = client.get("/").content.decode()
    assert "网格" in page and "厚街镇" in page and "镇(街)调度员" in page
    english = client.get("/", headers={"Accept-Language": "en"}).content.decode()
    assert "Town dispatcher" in english and "Log out" in english


@pytest.mark.django_db
def test_area_detail_shows_children_map_and_history(client_as):
    client = client_as("town_dispatcher")
    page = client.get("/areas/441900122002/").content.decode()
    assert "441900122002001" in page  # its grids
    assert 'id="map"' in page and "leaflet.js" in page
    assert "生成" in page  # says the boundary is generated
    geojson = client.get("/areas/441900122002/geojson/").json()
    assert geojson["type"] == "FeatureCollection"
    assert len(geojson["features"]) == 1 + Area.objects.get(code="441900122002").children.count()
    children = client.get("/areas/441900122/children/").content.decode()
    assert "441900122002" in children


@pytest.mark.django_db
def test_api_docs_and_schema_are_served():
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/token" in paths and "/api/v1/areas/locate" in paths
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.django_db
def test_locate_api(api_as):
    api = api_as("grid_manager")
    grid = Area.objects.get(code="441900122002001")
    from shapely.geometry import shape

    p = shape(grid.boundary).representative_point()
    found = api.get("/api/v1/areas/locate", lat=p.y, lng=p.x)
    assert found.status_code == 200 and found.json()["code"] == grid.code
    outside = api.get("/api/v1/areas/locate", lat=22.3, lng=114.17)
    assert outside.status_code == 422 and "不在本市范围内" in outside.json()["detail"]
    bad = api.get("/api/v1/areas/locate", lat="north", lng=114.17)
    assert bad.status_code == 422 and "lat" in str(bad.json())


@pytest.mark.django_db
def test_static_assets_are_vendored():
    client = Client()
    for path in ["/static/vendor/leaflet/leaflet.js", "/static/vendor/htmx/htmx.min.js", "/static/web/areamap.js"]:
        response = client.get(path)
        assert response.status_code == 200, path
