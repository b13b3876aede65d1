"""Maps without a base map: the public place search (address text and point only, within the city,
rate-limited), the divisions and grids by view for the zoom labels, the case page's map (grid
boundary, open cases nearby, in the user's jurisdiction), tile presets and the city's own extent."""

import json
import re
from html import unescape
from pathlib import Path

import pytest
import shapely
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from wangge.accounts.models import User
from wangge.areas.home import city_home, forget
from wangge.areas.models import Area, Level
from wangge.registry import actions as registry
from wangge.registry.models import StandardAddress
from wangge.web.csp import policy
from wangge.web.maptiles import tiles_from_env

from .conftest import VILLAGE_A_GRID, VILLAGE_B_GRID, point_in

pytestmark = pytest.mark.django_db
WANGGE = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    forget()
    yield
    cache.clear()
    forget()


@pytest.fixture
def registers(db):
    admin = User.objects.get(username="admin")
    lat, lng = point_in(VILLAGE_A_GRID)
    home = registry.save_address(admin, {"road": "莞太路", "number": "12号", "lat": lat, "lng": lng})
    school = registry.save_address(admin, {"road": "竹溪路", "number": "3号", "lat": lat + 0.0005, "lng": lng})
    registry.save_building(
        admin,
        {"name": "张三自建房", "address": home.code, "use": "self_built", "floors": 3,
         "contact_name": "张三", "contact_phone": "13800138000"},
    )  # fmt: skip
    registry.save_building(
        admin,
        {"name": "竹溪小学", "address": school.code, "use": "public", "floors": 4,
         "contact_name": "李四", "contact_phone": "13900139000"},
    )  # fmt: skip
    return home, school


def test_place_search_gives_address_text_and_point_only(client, registers):
    home, school = registers
    answer = client.get("/report/places/", {"q": "莞太路12"})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["text"] for r in results] == [home.full_text]
    assert set(results[0]) == {"text", "lat", "lng"} and results[0]["lat"] == home.lat
    by_name = client.get("/report/places/", {"q": "竹溪小学"}).json()["results"]
    assert by_name[0]["text"].startswith("竹溪小学") and school.full_text in by_name[0]["text"]
    # A house named after its owner is never found by that name, and nothing personal is answered.
    assert client.get("/report/places/", {"q": "张三"}).json()["results"] == []
    body = client.get("/report/places/", {"q": "路"}).content.decode()
    assert "13800138000" not in body and "李四" not in body and "张三" not in body and "code" not in body


def test_place_search_is_scoped_to_the_city(client, registers):
    home, _school = registers
    other = Area.objects.create(code="440300", name="深圳市", level=Level.CITY, path="440300/")
    row = StandardAddress.objects.get(pk=home.pk)
    row.pk, row.code, row.full_text, row.search_text = None, "X-1", "深圳市莞太路99号", "深圳市莞太路99号"
    row.area, row.area_path = other, other.path
    row.save()
    texts = [r["text"] for r in client.get("/report/places/", {"q": "莞太路"}).json()["results"]]
    assert home.full_text in texts
    # Both are roots: the search covers the deployment's cities, never a row without an area in them.
    StandardAddress.objects.filter(pk=row.pk).update(area_path="999999/")
    texts = [r["text"] for r in client.get("/report/places/", {"q": "莞太路"}).json()["results"]]
    assert "深圳市莞太路99号" not in texts


def test_place_search_needs_two_characters_and_is_rate_limited(client, registers, settings):
    short = client.get("/report/places/", {"q": " 莞 "})
    assert short.status_code == 400 and short.json()["field"] == "q"
    assert "两个字" in short.json()["detail"]
    settings.PUBLIC_PLACE_SEARCH_PER_MINUTE = 3
    cache.clear()
    codes = [client.get("/report/places/", {"q": "莞太路"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/report/places/", {"q": "莞太路"})
    assert 0 < int(refused["Retry-After"]) <= 60 and "一分钟" in refused.json()["detail"]
    # Another client address has its own budget.
    assert client.get("/report/places/", {"q": "莞太路"}, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_divisions_and_grids_by_view_with_names_and_simplified_boundaries(client):
    town = Area.objects.get(code="441900122")
    bbox = f"{town.min_lng},{town.min_lat},{town.max_lng},{town.max_lat}"
    villages = client.get("/report/areas.geojson", {"level": "village", "bbox": bbox}).json()["features"]
    assert villages and all(f["properties"]["level"] == "village" for f in villages)
    assert "441900122002" in {f["properties"]["code"] for f in villages}
    one = next(f for f in villages if f["properties"]["code"] == "441900122002")
    area = Area.objects.get(code="441900122002")
    assert one["properties"]["name"] == area.name and one["properties"]["label"] == [
        area.centroid_lat,
        area.centroid_lng,
    ]
    simple, full = shapely.geometry.shape(one["geometry"]), shapely.geometry.shape(area.boundary)
    assert shapely.get_num_coordinates(simple) <= shapely.get_num_coordinates(full)
    assert simple.symmetric_difference(full).area < 0.05 * full.area
    grids = client.get("/report/areas.geojson", {"level": "grid", "bbox": bbox}).json()["features"]
    assert VILLAGE_B_GRID in {f["properties"]["code"] for f in grids}
    far = client.get("/report/areas.geojson", {"level": "grid", "bbox": "100,10,100.1,10.1"}).json()
    assert far["features"] == []
    bad = client.get("/report/areas.geojson", {"level": "grid", "bbox": "1,2,3"})
    assert bad.status_code == 400 and bad.json()["field"] == "bbox"
    assert client.get("/report/areas.geojson", {"level": "person", "bbox": bbox}).json()["field"] == "level"


def test_case_page_map_has_the_grid_and_open_cases_nearby_in_reach(client_as, new_case):
    case = new_case()
    near = new_case(description="旁边的问题")
    theirs = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    html = client_as("village_dispatcher").get(f"/cases/{case.pk}/").content.decode()
    data = json.loads(unescape(re.search(r'<div id="casemap" [^>]*data-map="([^"]*)"', html).group(1)))
    assert data["point"] == [case.lat, case.lng]
    assert data["grid"]["name"] == case.area.name and data["grid"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    numbers = {c["number"] for c in data["nearby"]}
    assert near.number in numbers and case.number not in numbers and theirs.number not in numbers
    assert set(data["nearby"][0]) == {"number", "status", "category", "lat", "lng", "url"}
    assert data["nearby"][0]["status"] == "待立案" or not re.match(r"^[a-z_]+$", data["nearby"][0]["status"])


def test_tile_presets():
    assert tiles_from_env({})["url"] == ""  # no tiles unless configured
    tianditu = tiles_from_env({"WANGGE_MAP_TILES": "tianditu", "WANGGE_TIANDITU_KEY": "k123"})
    assert tianditu["crs"] == "wgs84" and "tk=k123" in tianditu["url"] and "LAYER=vec" in tianditu["url"]
    assert "LAYER=cva" in tianditu["overlay"] and "tk=k123" in tianditu["overlay"]
    assert tianditu["subdomains"] == "01234567" and "t{s}.tianditu.gov.cn" in tianditu["url"]
    with pytest.raises(ImproperlyConfigured, match="WANGGE_TIANDITU_KEY"):
        tiles_from_env({"WANGGE_MAP_TILES": "tianditu"})
    amap = tiles_from_env({"WANGGE_MAP_TILES": "amap"})
    assert amap["crs"] == "gcj02" and "autonavi.com" in amap["url"] and amap["attribution"] == "© 高德地图"
    with pytest.raises(ImproperlyConfigured, match="WANGGE_MAP_TILES"):
        tiles_from_env({"WANGGE_MAP_TILES": "google"})
    with pytest.raises(ImproperlyConfigured, match="WANGGE_MAP_TILE_CRS"):
        tiles_from_env({"WANGGE_MAP_TILE_URL": "https://x/{z}/{x}/{y}.png", "WANGGE_MAP_TILE_CRS": "bd09"})
    own = tiles_from_env(
        {"WANGGE_MAP_TILE_URL": "https://tiles.example.cn/{z}/{x}/{y}.png", "WANGGE_MAP_TILES": "amap"}
    )
    assert own["url"].startswith("https://tiles.example.cn") and own["crs"] == "wgs84"  # the URL wins
    assert "https://*.tianditu.gov.cn" in policy(tianditu["url"])["img-src"]
    assert "https://*.is.autonavi.com" in policy(amap["url"])["img-src"]


def _page_config(html):
    return json.loads(
        re.search(r'<script id="wangge-map-config" type="application/json">(.*?)</script>', html).group(1)
    )


def test_settings_reach_the_map_script_with_the_city_extent(client, settings):
    config = _page_config(client.get("/report/").content.decode())
    assert config["url"] == "" and config["crs"] == "wgs84"
    root = Area.objects.get(parent__isnull=True)
    assert config["home"]["bbox"] == [[root.min_lat, root.min_lng], [root.max_lat, root.max_lng]]
    assert config["home"]["centre"] == [root.centroid_lat, root.centroid_lng]
    amap = tiles_from_env({"WANGGE_MAP_TILES": "amap"})
    settings.MAP_TILE_URL, settings.MAP_TILE_CRS = amap["url"], amap["crs"]
    settings.MAP_TILE_SUBDOMAINS, settings.MAP_TILE_ATTRIBUTION = amap["subdomains"], amap["attribution"]
    config = _page_config(client.get("/report/").content.decode())
    assert config["url"] == amap["url"] and config["crs"] == "gcj02" and config["subdomains"] == "1234"
    assert city_home() == config["home"]


def test_no_hard_coded_map_centres():
    """Map centres come from the city's boundary: no latitude/longitude pair written into a script,
    template or the settings (vendored libraries aside)."""
    lat, lng = r"(?:[1-5]\d)\.\d+", r"(?:7[3-9]|[89]\d|1[0-3]\d)\.\d+"  # China's latitudes, longitudes
    pair = re.compile(rf"(?<![\d.]){lat}\s*,\s*{lng}(?![\d.])|(?<![\d.]){lng}\s*,\s*{lat}(?![\d.])")
    files = [WANGGE / "settings.py"]
    for pattern in ("**/static/**/*.js", "**/templates/**/*.html"):
        files += [p for p in WANGGE.glob(pattern) if "vendor" not in p.parts]
    found = [f"{p}: {m.group(0)}" for p in files for m in pair.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
