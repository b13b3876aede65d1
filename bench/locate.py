"""Point → grid lookup over 1M random points in the city, against a raw shapely STRtree query.

Also the memory of the loaded index: the RSS of a process with Django and the URL conf loaded,
before and after the city-scale index is built (goal: under 300 MB with it).
"""

import json
import subprocess
import sys
import time

import numpy as np
import shapely

from .common import ROOT, Result, setup_django

POINTS = 1_000_000
REPEAT = 3


def random_points_in(outline, n, seed=20261123):
    """n uniform random points inside the outline (rejection sampling in its bbox)."""
    rng = np.random.default_rng(seed)
    min_x, min_y, max_x, max_y = outline.bounds
    shapely.prepare(outline)
    xs, ys = [], []
    kept = 0
    while kept < n:
        x = rng.uniform(min_x, max_x, n)
        y = rng.uniform(min_y, max_y, n)
        inside = shapely.contains_xy(outline, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        kept += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def best_seconds(fn):
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run():
    setup_django()
    from wangge.areas.locate import load_index
    from wangge.areas.models import Area

    index = load_index()
    city = Area.objects.get(level="city")
    lngs, lats = random_points_in(shapely.geometry.shape(city.boundary), POINTS)

    start = time.perf_counter()
    index.raster()
    raster_seconds = time.perf_counter() - start
    located = index.locate_positions(lngs, lats)
    assert (located >= 0).all(), "every point inside the city must find an area"
    exact = np.full(POINTS, -1, dtype=np.int64)
    index._locate_exact(lngs, lats, exact, np.arange(POINTS))
    assert (located == exact).all(), "the raster shortcut must agree with the polygon test"

    # Baseline: the same leaf polygons in a bare STRtree, queried with the same points.
    leaf_geoms = [index.leaf_tree.geometries[i] for i in range(len(index.leaf_positions))]
    raw_tree = shapely.STRtree(leaf_geoms)

    def raw_query():
        raw_tree.query(shapely.points(lngs, lats), predicate="intersects")

    ours = POINTS / best_seconds(lambda: index.locate_positions(lngs, lats))
    raw = POINTS / best_seconds(raw_query)
    print(
        f"   {len(index.leaf_positions)} leaf areas, {POINTS:,} points, raster built in {raster_seconds:.2f} s",
        flush=True,
    )

    memory = measure_rss()
    return [
        Result("locate.points_per_second", ours, "points/s", "raw shapely STRtree.query", raw, ours / raw),
        Result(
            "locate.rss_with_city_index",
            memory["with_index"],
            "MB",
            "same process before loading the index",
            memory["without_index"],
            memory["with_index"] / memory["without_index"],
        ),
    ]


RSS_SCRIPT = """
import json, os, psutil, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
django.setup()
from django.test import Client
Client().get("/login/")  # the URL conf, templates and middleware loaded, as in a web worker
before = psutil.Process().memory_info().rss
from wangge.areas.locate import get_index
index = get_index()
index.locate(22.93, 113.67)
index.locate_many([22.93] * 20000, [113.67] * 20000)  # builds the bulk raster too
after = psutil.Process().memory_info().rss
print(json.dumps({"without_index": before / 2**20, "with_index": after / 2**20, "areas": len(index)}))
"""


def measure_rss():
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT], check=True, cwd=ROOT, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
