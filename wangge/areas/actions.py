"""Every change to the area tree goes through these functions: they check the rules, write,
append the change records and bump the boundary version, in one transaction."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wangge.core.imports import ImportRejected, RowError, decode_text, read_csv
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction

from . import geometry
from .locate import invalidate_index
from .models import CHILD_LEVEL, CODE_LENGTH, LEVEL_BY_CODE_LENGTH, Area, BoundaryVersion, Level

# Official NBS names end in the committee's title; people say 岗贝社区, not 岗贝社区居民委员会.
_COMMITTEE_SUFFIX = re.compile(r"(居民委员会|村民委员会|居委会|村委会)$")


def display_name(official_name: str) -> str:
    name = _COMMITTEE_SUFFIX.sub("", official_name)
    if official_name.endswith("村民委员会") and not name.endswith("村"):
        name += "村"
    return name


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)


def _compute_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path or ''}{code}/"


def _bump_boundary_version():
    updated = BoundaryVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        BoundaryVersion.objects.create(pk=1, version=1)
    transaction.on_commit(invalidate_index)


def _set_geometry(area: Area, geom, generated: bool):
    area.boundary = geometry.to_geojson(geom)
    area.boundary_generated = generated
    area.min_lng, area.min_lat, area.max_lng, area.max_lat = (round(v, 7) for v in geom.bounds)
    centroid = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
    area.centroid_lng, area.centroid_lat = round(centroid.x, 7), round(centroid.y, 7)
    area.updated_at = timezone.now()


# ---------------------------------------------------------------- divisions


def _division_rows(paths: list[str | Path]) -> tuple[list[dict], list[RowError]]:
    rows, errors = [], []
    for path in paths:
        name = Path(path).name
        try:
            header, file_rows = read_csv(path)
        except OSError as exc:
            errors.append(RowError(name, 0, f"无法读取文件: {exc}"))
            continue
        if header[:2] != ["code", "name"] or header not in (["code", "name"], ["code", "name", "town_code"]):
            errors.append(RowError(name, 1, f"表头须为 code,name 或 code,name,town_code，实际为 {','.join(header)}"))
            continue
        if not file_rows:
            errors.append(RowError(name, 0, "文件没有数据行 (no data rows)"))
        for line, row in file_rows:
            rows.append({"file": name, "line": line, **row})
    return rows, errors


def validate_divisions(rows: list[dict]) -> tuple[list[dict], list[RowError]]:
    """Check every row; return the rows with level and parent code, and every error found."""
    errors: list[RowError] = []
    seen: dict[str, dict] = {}
    valid = []
    for row in rows:
        code, name, where = row["code"], row["name"], (row["file"], row["line"])
        row_errors = []
        if not code.isdigit() or len(code) not in (6, 9, 12):
            row_errors.append(RowError(*where, f"代码 {code!r} 须为 6、9 或 12 位数字", "code"))
        if not name:
            row_errors.append(RowError(*where, "名称为空 (empty name)", "name"))
        if code in seen:
            first = seen[code]
            row_errors.append(RowError(*where, f"代码 {code} 重复，首次出现于 {first['file']}:{first['line']}", "code"))
        if row_errors:
            errors.extend(row_errors)
            seen.setdefault(code, row)
            continue
        seen[code] = row
        level = LEVEL_BY_CODE_LENGTH[len(code)]
        parent_code = None
        if level == Level.TOWN:
            parent_code = code[:6]
        elif level == Level.VILLAGE:
            parent_code = row.get("town_code") or code[:9]
            if parent_code != code[:9]:
                errors.append(RowError(*where, f"town_code {parent_code} 与代码前 9 位 {code[:9]} 不符", "town_code"))
                continue
        valid.append({**row, "level": level, "parent_code": parent_code})
    batch_codes = {r["code"] for r in valid}
    known = set(
        Area.objects.filter(code__in={r["parent_code"] for r in valid if r["parent_code"]}).values_list(
            "code", flat=True
        )
    )
    for row in valid:
        parent = row["parent_code"]
        if parent and parent not in batch_codes and parent not in known:
            errors.append(RowError(row["file"], row["line"], f"上级区划 {parent} 不存在 (unknown parent)", "code"))
    return valid, sorted(errors, key=lambda e: (e.file, e.line))


@transaction.atomic
def import_divisions(paths: list[str | Path], *, acting_user=None) -> ImportResult:
    """Create or update areas from division CSVs. All rows valid, or nothing is written."""
    rows, errors = _division_rows(paths)
    valid, row_errors = validate_divisions(rows)
    errors += row_errors
    if errors:
        raise ImportRejected(errors)
    result = ImportResult()
    valid.sort(key=lambda r: len(r["code"]))  # parents before children, whatever the file order
    existing = {a.code: a for a in Area.objects.filter(code__in=[r["code"] for r in valid]).select_related("parent")}
    parents = {a.code: a for a in Area.objects.filter(code__in={r["parent_code"] for r in valid if r["parent_code"]})}
    for row in valid:
        parent = parents.get(row["parent_code"]) if row["parent_code"] else None
        area = existing.get(row["code"])
        fields = {
            "name": display_name(row["name"]),
            "official_name": row["name"],
            "level": row["level"],
            "parent": parent,
            "path": _compute_path(parent.path if parent else None, row["code"]),
        }
        if area is None:
            area = Area.objects.create(code=row["code"], **fields)
            record_change(area, ChangeAction.CREATE, acting_user=acting_user, after=area.history_snapshot())
            result.created += 1
        else:
            before = area.history_snapshot()
            old_path = area.path
            for key, value in fields.items():
                setattr(area, key, value)
            after = area.history_snapshot()
            if before == after and old_path == area.path:
                result.unchanged += 1
            else:
                area.updated_at = timezone.now()
                area.save()
                if old_path != area.path:
                    _move_subtree(old_path, area.path)
                record_change(area, ChangeAction.UPDATE, acting_user=acting_user, before=before, after=after)
                result.updated += 1
        parents[area.code] = area
        result.codes.append(area.code)
    return result


def _move_subtree(old_path: str, new_path: str):
    """Rewrite the paths below an area that moved (rare: a village moved to another town)."""
    for descendant in Area.objects.filter(path__startswith=old_path).exclude(path=new_path):
        descendant.path = new_path + descendant.path[len(old_path) :]
        descendant.save(update_fields=["path"])


# ---------------------------------------------------------------- boundaries


def _feature_errors(name: str, index: int, reason: str, code: str = "") -> RowError:
    label = f"要素 #{index + 1}" + (f" ({code})" if code else "")
    return RowError(name, index + 1, f"{label}: {reason}")


@transaction.atomic
def import_boundaries(
    path: str | Path, *, code_property: str = "code", crs: str = "wgs84", acting_user=None
) -> ImportResult:
    """Attach boundaries from a GeoJSON FeatureCollection, all features valid or nothing written.

    "line" in errors is the feature's number (1-based) in the collection.
    """
    name = Path(path).name
    try:
        collection = json.loads(decode_text(Path(path).read_bytes()))
    except (OSError, ValueError) as exc:
        raise ImportRejected([RowError(name, 0, f"不是有效的 GeoJSON 文件: {exc}")]) from exc
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ImportRejected([RowError(name, 0, "须为 GeoJSON FeatureCollection")])
    if crs not in ("wgs84", "gcj02"):
        raise ImportRejected([RowError(name, 0, f"未知坐标系 {crs}，可选 wgs84 或 gcj02")])
    features = collection.get("features") or []
    errors, parsed = [], []
    codes = [str((f.get("properties") or {}).get(code_property, "")) for f in features]
    areas = {a.code: a for a in Area.objects.filter(code__in=codes).select_related("parent")}
    seen = set()
    for i, feature in enumerate(features):
        code = codes[i]
        if not code:
            errors.append(_feature_errors(name, i, f"缺少属性 {code_property}"))
            continue
        if code in seen:
            errors.append(_feature_errors(name, i, "同一区划出现多次 (duplicate code)", code))
            continue
        seen.add(code)
        area = areas.get(code)
        if area is None:
            errors.append(_feature_errors(name, i, "区划代码不存在 (unknown area code)", code))
            continue
        raw = feature.get("geometry")
        try:
            if crs == "gcj02" and isinstance(raw, dict) and raw.get("type") in ("Polygon", "MultiPolygon"):
                raw = geometry.geometry_from_gcj02(raw)
            geom = geometry.parse_boundary(raw)
        except (geometry.GeometryError, ValueError, TypeError, IndexError) as exc:
            errors.append(_feature_errors(name, i, str(exc), code))
            continue
        parsed.append((area, geom))
    # A child must lie inside its parent's boundary: the parent's new one if it comes in this file.
    new_geoms = {area.code: geom for area, geom in parsed}
    for i_area, geom in parsed:
        parent = i_area.parent
        if parent is None:
            continue
        parent_geom = new_geoms.get(parent.code)
        if parent_geom is None and parent.boundary:
            parent_geom = geometry.parse_boundary(parent.boundary)
        if parent_geom is not None and not geometry.is_within(geom, parent_geom):
            errors.append(
                RowError(name, codes.index(i_area.code) + 1, f"{i_area.code}: 边界超出上级区划 {parent.code} 的范围")
            )
    if errors:
        raise ImportRejected(errors)
    result = ImportResult()
    for area, geom in parsed:
        if set_boundary(area, geom, acting_user=acting_user, generated=False):
            result.updated += 1
        else:
            result.unchanged += 1
        result.codes.append(area.code)
    return result


def set_boundary(area: Area, geom, *, acting_user=None, generated: bool = False) -> bool:
    """Store a (checked) boundary on an area; False when it was already the same."""
    before = area.history_snapshot()
    _set_geometry(area, geom, generated)
    after = area.history_snapshot()
    if before == after:
        return False
    area.save()
    record_change(area, ChangeAction.UPDATE, acting_user=acting_user, before=before, after=after)
    _bump_boundary_version()
    return True


# ---------------------------------------------------------------- generated grids


class GridGenerationError(ValueError):
    pass


@transaction.atomic
def generate_grids(village: Area, count: int, *, acting_user=None, replace: bool = False) -> list[Area]:
    """Cut an area's boundary into count child areas (base grids for a village), Voronoi-style.

    The children cover the parent and never overlap. Existing children with boundaries are kept
    unless replace is given (then generated children are replaced; drawn ones are never touched).
    """
    child_level = CHILD_LEVEL.get(village.level)
    if child_level not in (Level.GRID, Level.SUBGRID):
        raise GridGenerationError(f"{village} 是 {village.get_level_display()}，只能为村(社区)或网格生成网格")
    if not village.boundary:
        raise GridGenerationError(f"{village} 没有边界，无法划分网格 (no boundary)")
    if not 1 <= count <= 99:
        raise GridGenerationError("网格数量须在 1 到 99 之间 (count must be 1–99)")
    children = list(village.children.all())
    if children:
        if not replace or any(not c.boundary_generated for c in children):
            raise GridGenerationError(f"{village} 已有 {len(children)} 个下级网格；使用 --replace 替换生成的网格")
        for child in children:
            record_change(child, ChangeAction.DELETE, acting_user=acting_user, before=child.history_snapshot())
            child.delete()
    parent_geom = geometry.parse_boundary(village.boundary)
    cells = geometry.cut_into_cells(parent_geom, count, seed=int(village.code) % (2**32))
    suffix_digits = CODE_LENGTH[child_level] - len(village.code)
    created = []
    for number, cell in enumerate((c for c in cells if not c.is_empty), start=1):
        code = f"{village.code}{number:0{suffix_digits}d}"
        area = Area(
            code=code,
            name=f"{village.name}第{number}网格" if child_level == Level.GRID else f"{village.name}-{number}",
            level=child_level,
            parent=village,
            path=_compute_path(village.path, code),
        )
        _set_geometry(area, cell, generated=True)
        area.save()
        record_change(area, ChangeAction.CREATE, acting_user=acting_user, after=area.history_snapshot())
        created.append(area)
    _bump_boundary_version()
    return created


@transaction.atomic
def generate_child_boundaries(parent: Area, centers: dict[str, tuple[float, float]] | None = None, *, acting_user=None):
    """Give an area's existing children generated boundaries that cover it without overlap.

    centers maps child code → (lng, lat) of a known seat; children without one get spread points.
    Children that already have a drawn (not generated) boundary are left alone.
    """
    if not parent.boundary:
        raise GridGenerationError(f"{parent} 没有边界 (no boundary)")
    children = list(parent.children.order_by("code"))
    if not children:
        return []
    parent_geom = geometry.parse_boundary(parent.boundary)
    spread = geometry.spread_centers(parent_geom, len(children), seed=int(parent.code) % (2**32))
    points = [
        geometry.snap_inside(parent_geom, centers[c.code]) if centers and c.code in centers else spread[i]
        for i, c in enumerate(children)
    ]
    cells = geometry.voronoi_cells(parent_geom, np.array(points))
    for child, cell in zip(children, cells, strict=True):
        if child.boundary and not child.boundary_generated:
            continue
        if not cell.is_empty:
            set_boundary(child, cell, acting_user=acting_user, generated=True)
    return children


def refresh_derived_fields(area: Area) -> None:
    """Recompute path, bbox and centroid of an area edited by hand (admin); checks its boundary."""
    from django.core.exceptions import ValidationError

    area.path = _compute_path(area.parent.path if area.parent_id else None, area.code)
    if area.boundary:
        try:
            geom = geometry.parse_boundary(area.boundary)
        except geometry.GeometryError as exc:
            raise ValidationError({"boundary": str(exc)}) from exc
        _set_geometry(area, geom, area.boundary_generated)
        _bump_boundary_version()
