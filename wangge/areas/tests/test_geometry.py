import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import shape

from wangge.areas import actions
from wangge.areas.coords import distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from wangge.areas.locate import OutsideCity, get_index, locate, locate_many
from wangge.areas.models import Area, Level
from wangge.core.imports import ImportRejected
from wangge.demo import DATA

SHARED_OUTLINE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "dongguan_city_boundary_datav.geojson"


def feature_collection(tmp_path, features, name="b.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def feature(code, geometry):
    return {"type": "Feature", "properties": {"code": code}, "geometry": geometry}


def square(lng, lat, size=0.001):
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]],
    }


def test_gcj02_round_trip_and_offset_near_dongguan():
    lng, lat = 113.7518, 23.0207  # 莞城
    glng, glat = wgs84_to_gcj02(lng, lat)
    shift = distance_m(lng, lat, glng, glat)
    assert 400 < shift < 800  # the famous few-hundred-metre offset
    back = gcj02_to_wgs84(glng, glat)
    assert distance_m(lng, lat, *back) < 0.05
    # Outside China the datum is plain WGS-84.
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    lngs, lats = wgs84_to_gcj02(np.array([113.7, 114.0]), np.array([22.9, 23.0]))
    assert lngs.shape == (2,)


@pytest.mark.django_db
def test_import_outline_from_gcj02_stores_wgs84(tmp_path):
    wgs = json.loads((DATA / "dongguan_outline_simplified.geojson").read_text())
    ring = np.array(wgs["features"][0]["geometry"]["coordinates"][0])
    glng, glat = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
    gcj_geometry = {"type": "Polygon", "coordinates": [np.column_stack([glng, glat]).tolist()]}
    path = feature_collection(
        tmp_path, [{"type": "Feature", "properties": {"adcode": 441900}, "geometry": gcj_geometry}]
    )
    call_command("import_boundaries", str(path), "--code-property", "adcode", "--crs", "gcj02")
    stored = np.array(Area.objects.get(code="441900").boundary["coordinates"][0])
    assert np.abs(stored - ring).max() < 1e-6
    moved = distance_m(glng, glat, stored[:, 0], stored[:, 1])
    assert 400 < moved.mean() < 800


@pytest.mark.django_db
@pytest.mark.skipif(not SHARED_OUTLINE.exists(), reason="../shared/data is not beside this checkout")
def test_real_datav_outline_moves_about_600_m(tmp_path):
    call_command("import_boundaries", str(SHARED_OUTLINE), "--code-property", "adcode", "--crs", "gcj02")
    source = np.array(json.loads(SHARED_OUTLINE.read_text())["features"][0]["geometry"]["coordinates"][0])
    stored = np.array(Area.objects.get(code="441900").boundary["coordinates"][0])
    moved = distance_m(source[:, 0], source[:, 1], stored[:, 0], stored[:, 1])
    assert 500 < moved.mean() < 700, moved.mean()


@pytest.mark.django_db
def test_bad_features_are_reported_and_nothing_is_written(tmp_path):
    village = Area.objects.get(code="441900122002")
    inside = shape(village.boundary).representative_point()
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.60, 22.90], [113.61, 22.91], [113.61, 22.90], [113.60, 22.91], [113.60, 22.90]]],
    }
    path = feature_collection(
        tmp_path,
        [
            feature("441900122002", square(inside.x, inside.y, 0.0001)),  # 1: valid
            feature("441900122003", bowtie),  # 2: self-intersecting
            feature("441900122004", {"type": "Point", "coordinates": [113.6, 22.9]}),  # 3: not a polygon
            feature("441900999999", square(113.6, 22.9)),  # 4: unknown code
            feature("441900122005", square(114.3, 22.6)),  # 5: outside its parent (厚街)
            {"type": "Feature", "properties": {}, "geometry": square(113.6, 22.9)},  # 6: no code
        ],
    )
    before = village.boundary
    with pytest.raises(ImportRejected) as caught:
        actions.import_boundaries(path)
    lines = {e.line: e.reason for e in caught.value.errors}
    assert set(lines) == {2, 3, 4, 5, 6}
    assert "Self-intersection" in lines[2] or "无效" in lines[2]
    assert "Point" in lines[3]
    assert "超出上级" in lines[5]
    village.refresh_from_db()
    assert village.boundary == before
    with pytest.raises(CommandError):
        call_command("import_boundaries", str(path))


@pytest.mark.django_db
def test_generated_grids_cover_the_village_without_overlap():
    village = Area.objects.get(code="441900122010")
    assert not village.children.exists()
    grids = actions.generate_grids(village, 7)
    assert [g.code for g in grids] == [f"441900122010{n:03d}" for n in range(1, 8)]
    assert all(g.level == Level.GRID and g.parent == village and g.boundary_generated for g in grids)
    parent = shape(village.boundary)
    cells = [shape(g.boundary) for g in grids]
    union = shapely.union_all(cells)
    assert abs(union.area - parent.area) / parent.area < 1e-5  # coordinates are rounded to 1 cm
    assert abs(sum(c.area for c in cells) - union.area) / parent.area < 1e-5  # no overlap
    assert min(c.area for c in cells) > parent.area / 7 / 4  # roughly even sizes
    with pytest.raises(actions.GridGenerationError):
        actions.generate_grids(village, 3)  # already has grids
    assert len(actions.generate_grids(village, 3, replace=True)) == 3


@pytest.mark.django_db
def test_generate_grids_command_errors():
    with pytest.raises(CommandError, match="没有边界"):
        call_command("generate_grids", "--village", "441900003001", "--count", "3")  # no boundary in the test city
    with pytest.raises(CommandError, match="不存在"):
        call_command("generate_grids", "--village", "441900999999", "--count", "3")
    call_command("generate_grids", "--town", "441900111", "--count", "2")
    assert Area.objects.filter(parent__parent__code="441900111", level=Level.GRID).count() > 10


@pytest.mark.django_db
def test_locate_finds_the_deepest_area():
    grid = Area.objects.get(code="441900122002001")
    point = shape(grid.boundary).representative_point()
    assert locate(point.y, point.x).code == grid.code
    village_without_grids = Area.objects.get(code="441900122010")
    p = shape(village_without_grids.boundary).representative_point()
    assert locate(p.y, p.x).code == village_without_grids.code
    town_without_villages = Area.objects.get(code="441900003")  # 东城: villages not drawn in the test city
    p = shape(town_without_villages.boundary).representative_point()
    assert locate(p.y, p.x).code == "441900003"
    with pytest.raises(OutsideCity):
        locate(22.3, 114.17)  # Hong Kong
    with pytest.raises(OutsideCity):
        locate(0, 0)


@pytest.mark.django_db
def test_locate_many_agrees_with_locate():
    city = Area.objects.get(code="441900")
    rng = np.random.default_rng(7)
    lngs = rng.uniform(city.min_lng - 0.05, city.max_lng + 0.05, 400)
    lats = rng.uniform(city.min_lat - 0.05, city.max_lat + 0.05, 400)
    found = locate_many(lats, lngs)
    outside = 0
    for lat, lng, area in zip(lats, lngs, found, strict=True):
        if area is None:
            outside += 1
            with pytest.raises(OutsideCity):
                locate(lat, lng)
        else:
            assert locate(lat, lng) == area
    assert 0 < outside < 400


@pytest.mark.django_db
def test_bulk_raster_lookup_agrees_with_the_polygon_test():
    index = get_index()
    city = Area.objects.get(code="441900")
    rng = np.random.default_rng(11)
    n = 30_000  # above RASTER_MIN_POINTS, so the raster is used
    lngs = rng.uniform(city.min_lng - 0.02, city.max_lng + 0.02, n)
    lats = rng.uniform(city.min_lat - 0.02, city.max_lat + 0.02, n)
    bulk = index.locate_positions(lngs, lats)
    exact = np.full(n, -1, dtype=np.int64)
    index._locate_exact(lngs, lats, exact, np.arange(n))
    assert (bulk == exact).all()
    assert (bulk >= 0).sum() > n // 3 and (bulk < 0).sum() > 0


@pytest.mark.django_db
def test_index_is_rebuilt_when_boundaries_change(django_capture_on_commit_callbacks):
    village = Area.objects.get(code="441900122011")
    p = shape(village.boundary).representative_point()
    assert locate(p.y, p.x).code == village.code
    version = get_index().version
    with django_capture_on_commit_callbacks(execute=True):
        actions.generate_grids(village, 2)
    assert get_index().version > version
    found = locate(p.y, p.x)
    assert found.code.startswith(village.code) and found.level == Level.GRID
