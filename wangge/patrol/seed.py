"""Demo tracks: this morning's walk of each demo grid manager inside their grid."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone
from shapely.geometry import Point

from wangge.accounts.models import Role, User

from .actions import Position, record_positions
from .models import TrackDay
from .queries import assigned_grid

STEP_DEGREES = 0.0004  # about 40 m in 30 s: a brisk walk with stops


def walk(grid, start: datetime, end: datetime, interval_s: int, rng: random.Random) -> list[Position]:
    """A random walk that stays inside the grid, with the odd poor fix, as a phone would send."""
    here = grid.representative_point()
    lng, lat = here.x, here.y
    positions, at = [], start
    while at <= end:
        for _attempt in range(10):
            next_lng = lng + rng.uniform(-STEP_DEGREES, STEP_DEGREES)
            next_lat = lat + rng.uniform(-STEP_DEGREES, STEP_DEGREES)
            if grid.contains(Point(next_lng, next_lat)):
                lng, lat = next_lng, next_lat
                break
        roll = rng.random()
        accuracy = None if roll < 0.02 else 150.0 if roll < 0.05 else round(rng.uniform(4, 25), 1)
        positions.append(Position(at, round(lat, 6), round(lng, 6), accuracy))
        at += timedelta(seconds=interval_s)
    return positions


def seed_demo_tracks(interval_s: int = 30) -> None:
    """This morning's 08:30–11:30 (so far) for the demo grid managers; kept if already there."""
    day = timezone.localdate()
    if timezone.localtime().time() < time(9):  # too early for a walk today: show yesterday's
        day -= timedelta(days=1)
    start = timezone.make_aware(datetime.combine(day, time(8, 30)))
    end = min(timezone.make_aware(datetime.combine(day, time(11, 30))), timezone.now())
    workers = User.objects.filter(memberships__role=Role.GRID_MANAGER).distinct().order_by("pk")[:20]
    for index, worker in enumerate(workers):
        grid = assigned_grid(worker)
        if grid is None or TrackDay.objects.filter(worker=worker, day=day).exists():
            continue
        record_positions(worker, walk(grid, start, end, interval_s, random.Random(index)))
