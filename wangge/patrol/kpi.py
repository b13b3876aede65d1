"""Field work figures for a period, per worker and per area: inspection rate (巡检率), on-time rate,
registration rate of rental houses (列管率), cases reported and the share handled on site, distance
and time inside the grid. Computed with a few grouped queries, then summed by area path in Python,
so a town's page costs the same whatever its number of workers."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.areas.models import Area
from wangge.cases.models import Case, Channel
from wangge.registry.models import Building, RentalHouse, RentalStatus

from .models import Inspection, InspectionTask, TaskStatus, TrackDay
from .queries import visible_workers

# Building uses that are expected to be let (the denominator of the rental registration rate).
RENTAL_USES = ("rental", "self_built", "dormitory")


@dataclass
class Figures:
    tasks_due: int = 0
    tasks_done: int = 0
    tasks_on_time: int = 0
    inspections: int = 0
    cases_reported: int = 0
    cases_on_site: int = 0
    rental_buildings: int = 0
    rental_registered: int = 0
    distance_m: float = 0
    seconds_on_duty: int = 0
    seconds_in_grid: int = 0

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _share(part, whole):
        return round(part / whole, 3) if whole else None

    @property
    def inspection_rate(self):
        return self._share(self.tasks_done, self.tasks_due)

    @property
    def on_time_rate(self):
        return self._share(self.tasks_on_time, self.tasks_done)

    @property
    def registration_rate(self):
        return self._share(self.rental_registered, self.rental_buildings)

    @property
    def on_site_share(self):
        return self._share(self.cases_on_site, self.cases_reported)

    @property
    def distance_km(self):
        return round(self.distance_m / 1000, 1)

    @property
    def hours_in_grid(self):
        return round(self.seconds_in_grid / 3600, 1)


@dataclass
class Row:
    label: str
    code: str
    figures: Figures = field(default_factory=Figures)


def _bounds(start: date, end: date):
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time(), tz), datetime.combine(end + timedelta(days=1), time(), tz)


def _by_leaf_path(start: date, end: date, paths_q: Q) -> dict[str, Figures]:
    """Figures of the targets and cases in each leaf area path."""
    since, until = _bounds(start, end)
    leaves: dict[str, Figures] = defaultdict(Figures)
    tasks = (
        InspectionTask.objects.filter(paths_q, due_date__gte=start, due_date__lte=end)
        .exclude(status=TaskStatus.CANCELLED)
        .values("area_path")
        .annotate(
            due=Count("pk"),
            done=Count("pk", filter=Q(status=TaskStatus.DONE)),
            on_time=Count("pk", filter=Q(status=TaskStatus.DONE, done_at__date__lte=F("due_date"))),
        )
    )
    for row in tasks:
        f = leaves[row["area_path"]]
        f.tasks_due, f.tasks_done, f.tasks_on_time = row["due"], row["done"], row["on_time"]
    for row in (
        Inspection.objects.filter(paths_q, finished_at__gte=since, finished_at__lt=until)
        .values("area_path")
        .annotate(n=Count("pk"))
    ):
        leaves[row["area_path"]].inspections = row["n"]
    for row in (
        Case.objects.filter(paths_q, channel=Channel.GRID_MANAGER, created_at__gte=since, created_at__lt=until)
        .values("area_path")
        .annotate(n=Count("pk"), on_site=Count("pk", filter=Q(handled_on_site=True)))
    ):
        f = leaves[row["area_path"]]
        f.cases_reported, f.cases_on_site = row["n"], row["on_site"]
    registered = RentalHouse.objects.filter(building=OuterRef("pk"), status=RentalStatus.ACTIVE)
    for row in (
        Building.objects.filter(paths_q, use__code__in=RENTAL_USES)
        .annotate(registered=Exists(registered))
        .values("area_path")
        .annotate(n=Count("pk"), with_rental=Count("pk", filter=Q(registered=True)))
    ):
        f = leaves[row["area_path"]]
        f.rental_buildings, f.rental_registered = row["n"], row["with_rental"]
    return leaves


def _sum_under(leaves: dict[str, Figures], path: str) -> Figures:
    total = Figures()
    for leaf_path, figures in leaves.items():
        if leaf_path.startswith(path):
            total.add(figures)
    return total


def area_rows(user, level: str, start: date, end: date) -> list[Row]:
    """One row per area of the level inside the user's jurisdiction."""
    scope = scope_for(user)
    areas = Area.objects.filter(scope.area_q("path", include_department_areas=False), level=level)
    leaves = _by_leaf_path(start, end, scope.area_q("area_path", include_department_areas=False))
    rows = [Row(a.name, a.code, _sum_under(leaves, a.path)) for a in areas.order_by("path")]
    return _ranked(rows)


def worker_rows(user, start: date, end: date) -> list[Row]:
    """One row per field worker the user supervises: the figures of their grids plus their own work."""
    since, until = _bounds(start, end)
    workers = list(visible_workers(user).prefetch_related("memberships__area").order_by("username"))
    scope = scope_for(user)
    leaves = _by_leaf_path(start, end, scope.area_q("area_path", include_department_areas=False))
    inspections = dict(
        Inspection.objects.filter(inspector__in=workers, finished_at__gte=since, finished_at__lt=until)
        .values_list("inspector")
        .annotate(n=Count("pk"))
    )
    cases = {
        r["reporter"]: r
        for r in Case.objects.filter(reporter__in=workers, channel=Channel.GRID_MANAGER)
        .filter(created_at__gte=since, created_at__lt=until)
        .values("reporter")
        .annotate(n=Count("pk"), on_site=Count("pk", filter=Q(handled_on_site=True)))
    }
    tracks = {
        r["worker"]: r
        for r in TrackDay.objects.filter(worker__in=workers, day__gte=start, day__lte=end)
        .values("worker")
        .annotate(distance=Sum("distance_m"), duty=Sum("seconds_on_duty"), in_grid=Sum("seconds_in_grid"))
    }
    rows = []
    for worker in workers:
        grids = [m.area for m in worker.memberships.all() if m.role == Role.GRID_MANAGER and m.area_id]
        figures = Figures()
        for grid in grids:
            figures.add(_sum_under(leaves, grid.path))
        # The worker's own work, wherever it was done.
        figures.inspections = inspections.get(worker.pk, 0)
        figures.cases_reported = cases.get(worker.pk, {}).get("n", 0)
        figures.cases_on_site = cases.get(worker.pk, {}).get("on_site", 0)
        track = tracks.get(worker.pk, {})
        figures.distance_m = track.get("distance") or 0
        figures.seconds_on_duty = track.get("duty") or 0
        figures.seconds_in_grid = track.get("in_grid") or 0
        rows.append(Row(f"{worker} · {'、'.join(g.name for g in grids)}", worker.username, figures))
    return _ranked(rows)


def _ranked(rows: list[Row]) -> list[Row]:
    """Best inspection rate first; rows without tasks last."""
    return sorted(rows, key=lambda r: (r.figures.inspection_rate is None, -(r.figures.inspection_rate or 0), r.code))
