"""Derive the shipped simplified Dongguan outline from the DataV file in ../shared/data.

The source (GCJ-02, 2,703 vertices, no licence stated) is converted to WGS-84 and simplified
to at most 100 vertices; only the result is shipped. Run: .venv/bin/python scripts/make_outline.py
"""

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from wangge.areas.geometry import geometry_from_gcj02  # noqa: E402

source = ROOT.parent / "shared" / "data" / "dongguan_city_boundary_datav.geojson"
target = ROOT / "wangge" / "areas" / "data" / "dongguan_outline_simplified.geojson"
feature = json.loads(source.read_text())["features"][0]
geom = shape(geometry_from_gcj02(feature["geometry"]))
tolerance = 0.0005
while True:
    simple = shapely.simplify(geom, tolerance, preserve_topology=True)
    if shapely.get_num_coordinates(simple) <= 100:
        break
    tolerance *= 1.25
geometry = json.loads(json.dumps(mapping(simple)))
geometry["coordinates"] = [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in geometry["coordinates"]]
out = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "adcode": 441900,
                "name": "东莞市",
                "crs": "WGS-84",
                "note": "simplified from the DataV GeoAtlas outline, see SOURCES.md",
            },
            "geometry": geometry,
        }
    ],
}
target.write_text(json.dumps(out, ensure_ascii=False))
print(
    f"{shapely.get_num_coordinates(simple)} vertices, tolerance {tolerance:.5f}°, "
    f"area kept {simple.area / geom.area:.4f}"
)
