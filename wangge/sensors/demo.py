"""Demo sensors: a few sensors in the demo users' villages with a reading every three hours over the
last week, through the actions (so the smoke detector's alarm opens a case): one in alarm, one
silent for days, one switched off, the others normal. Re-running adds the readings since the last
run (message ids follow the time slot, so nothing is read twice)."""

import math
import random
from datetime import timedelta

import shapely
from django.utils import timezone
from shapely.geometry import shape

from wangge.areas.models import Area, Level
from wangge.cases.models import MatterItem

from . import actions
from .models import Direction, Kind, Reading, Sensor

DAYS = 7
EVERY_HOURS = 3


# code, name, kind, matter item, metric, threshold, (town, village index, grid index), pattern
DEMO_SENSORS = [
    ("hj-smoke-001", "出租屋烟感（3栋）", Kind.SMOKE, "rental_safety", "%obs/m", 10.0, ("441900122", 0, 0), "alarm"),
    ("hj-manhole-001", "竹溪路井盖倾角", Kind.MANHOLE, "manhole", "°", 15.0, ("441900122", 0, 0), "calm"),
    ("hj-water-001", "竹溪路窨井水位", Kind.WATER_LEVEL, "manhole", "m", 1.2, ("441900122", 0, 1), "daily"),
    ("hj-noise-001", "工地噪声监测", Kind.NOISE, "business_noise", "dB", 70.0, ("441900122", 0, 2), "daily"),
    ("hj-gas-001", "农贸市场燃气探测", Kind.GAS, "gas_pipe", "%LEL", 20.0, ("441900122", 1, 0), "silent"),
    ("hj-water-002", "河堤水位（停用）", Kind.WATER_LEVEL, "manhole", "m", 2.5, ("441900122", 1, 1), "off"),
    ("lb-manhole-001", "寮步井盖倾角", Kind.MANHOLE, "manhole", "°", 15.0, ("441900111", 0, 0), "calm"),
]


def _grid(town: str, village_index: int, grid_index: int) -> Area | None:
    villages = Area.objects.filter(parent__code=town, level=Level.VILLAGE).order_by("code")
    village = villages[village_index : village_index + 1].first()
    if village is None:
        return None
    return village.children.filter(boundary__isnull=False).order_by("code")[grid_index : grid_index + 1].first()


def _point_in(rng: random.Random, area: Area) -> tuple[float, float]:
    geom = shape(area.boundary)
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(200):
        lng, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geom.contains(shapely.Point(lng, lat)):
            return round(lat, 6), round(lng, 6)
    p = geom.representative_point()
    return p.y, p.x


def _value(pattern: str, threshold: float, at, rng: random.Random, now) -> float:
    hour = timezone.localtime(at).hour
    wave = math.sin((hour - 8) / 24 * 2 * math.pi)  # highest in the afternoon
    if pattern == "alarm" and now - at < timedelta(hours=EVERY_HOURS * 2):
        return round(threshold * rng.uniform(1.2, 1.6), 2)
    if pattern == "daily":
        return round(threshold * (0.72 + 0.18 * wave + rng.uniform(-0.05, 0.05)), 2)
    return round(threshold * rng.uniform(0.05, 0.3), 2)


def seed_demo_sensors(log=print) -> None:
    now = timezone.now()
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    end -= timedelta(hours=end.hour % EVERY_HOURS)
    slots = [end - timedelta(hours=EVERY_HOURS * i) for i in range(DAYS * 24 // EVERY_HOURS)][::-1]
    made = readings = 0
    for index, (code, name, kind, item, metric, threshold, (town, v, g), pattern) in enumerate(DEMO_SENSORS):
        sensor = Sensor.objects.filter(code=code).first()
        if sensor is None:
            grid = _grid(town, v, g)
            matter_item = MatterItem.objects.filter(code=item).first()
            if grid is None or matter_item is None:
                continue
            lat, lng = _point_in(random.Random(index), grid)
            sensor = Sensor(code=code, name=name, kind=kind, lat=lat, lng=lng, matter_item=matter_item)
            sensor.metric, sensor.threshold, sensor.direction = metric, threshold, Direction.ABOVE
            sensor.is_active = pattern != "off"
            sensor.report_every = EVERY_HOURS * 3600  # its missing readings are counted against this
            actions.save_sensor(sensor)
            made += 1
        if not sensor.is_active:
            continue
        last = Reading.objects.filter(sensor=sensor).order_by("-measured_at").values_list("measured_at", flat=True)
        since = last.first()
        for at in slots:
            if (since and at <= since) or (pattern == "silent" and now - at < timedelta(days=3)):
                continue
            rng = random.Random(f"{code}:{at:%Y%m%d%H}")
            actions.record_reading(code, f"demo-{at:%Y%m%d%H}", _value(pattern, threshold, at, rng, now), at)
            readings += 1
    log(f"sensors: {made} placed, {readings} readings")
