"""The area tree: city > town/street > village/community > grid > sub-grid.

Each area keeps a materialized path ("441900/441900003/441900003001/") so that a subtree is one
prefix filter, and its boundary as GeoJSON (WGS-84) with a bounding box and centroid.
"""

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("City")
    TOWN = "town", _("Town / street")
    VILLAGE = "village", _("Village / community")
    GRID = "grid", _("Grid")
    SUBGRID = "subgrid", _("Sub-grid")


# Official codes: 6-digit city, 9-digit town, 12-digit village (GB/T 2260 + NBS);
# a grid is its village's code + 3 digits, a sub-grid its grid's code + 2 digits.
CODE_LENGTH = {Level.CITY: 6, Level.TOWN: 9, Level.VILLAGE: 12, Level.GRID: 15, Level.SUBGRID: 17}
LEVEL_BY_CODE_LENGTH = {length: level for level, length in CODE_LENGTH.items()}
LEVEL_DEPTH = {Level.CITY: 0, Level.TOWN: 1, Level.VILLAGE: 2, Level.GRID: 3, Level.SUBGRID: 4}
CHILD_LEVEL = {Level.CITY: Level.TOWN, Level.TOWN: Level.VILLAGE, Level.VILLAGE: Level.GRID, Level.GRID: Level.SUBGRID}


def under(field: str, path: str) -> Q:
    """Rows whose `field` (an area path, ending in "/") starts with `path`. On SQLite, LIKE cannot use
    an index (it ignores case), so the same test as a range of the binary-collated text (paths are
    digits and slashes, and "0" follows "/"); PostgreSQL answers LIKE 'prefix%' from the pattern
    index Django makes for the column."""
    if connection.vendor == "sqlite" and path.endswith("/"):
        return Q(**{f"{field}__gte": path, f"{field}__lt": path[:-1] + "0"})
    return Q(**{f"{field}__startswith": path})


class Area(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    official_name = models.CharField(_("official name"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=200, unique=True, editable=False)
    boundary = models.JSONField(_("boundary"), null=True, blank=True, help_text=_("GeoJSON geometry, WGS-84"))
    # True when the boundary was generated (demo data, generate_grids), not drawn by the area itself.
    boundary_generated = models.BooleanField(_("generated boundary"), default=False)
    min_lng = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lng = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    centroid_lng = models.FloatField(null=True, blank=True, editable=False)
    centroid_lat = models.FloatField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "path"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]

    @property
    def child_level(self):
        return CHILD_LEVEL.get(self.level)

    def ancestors(self):
        """The areas above this one, from the city down, in one query."""
        codes = [c for c in self.path.split("/") if c][:-1]
        return Area.objects.filter(code__in=codes).order_by("path")

    def subtree(self):
        return Area.objects.filter(under("path", self.path))

    def history_snapshot(self) -> dict:
        # The boundary itself is large: history keeps its kind and size, enough to see that it changed.
        boundary = None
        if self.boundary:
            import hashlib
            import json

            digest = hashlib.sha1(json.dumps(self.boundary, sort_keys=True).encode()).hexdigest()[:12]
            boundary = f"{self.boundary.get('type')} sha1:{digest}"
        return {
            "code": self.code,
            "name": self.name,
            "official_name": self.official_name,
            "level": self.level,
            "parent": self.parent.code if self.parent_id else None,
            "boundary": boundary,
            "boundary_generated": self.boundary_generated,
        }


class BoundaryVersion(models.Model):
    """One row, bumped whenever any boundary changes, so every process knows to rebuild its index."""

    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("boundary version")

    def __str__(self):
        return str(self.version)
