"""The digital city-management lists (部件/事件), loaded from a CSV edition as it is."""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from wangge.core.imports import ImportRejected, RowError, read_csv

from .models import Category, CategoryKind

BUNDLED = Path(__file__).resolve().parent / "data" / "urban_management_taxonomy.csv"
COLUMNS = ["kind", "major_code", "major_name", "minor_code", "minor_name"]


@dataclass
class TaxonomyResult:
    created: int = 0
    updated: int = 0
    deactivated: int = 0


@transaction.atomic
def import_taxonomy(path: str | Path = BUNDLED, edition: str = "") -> TaxonomyResult:
    """Upsert every major and minor class of the file; classes the file no longer has are
    deactivated (old cases keep them). Any bad row: nothing is written, every bad row is listed."""
    name = Path(path).name
    header, rows = read_csv(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportRejected([RowError(name, 1, f"缺少列 missing columns: {', '.join(missing)}")])
    errors, majors, minors = [], {}, {}
    kinds = {k.value for k in CategoryKind}
    for line, row in rows:
        kind = row["kind"].lower()
        if kind not in kinds:
            errors.append(RowError(name, line, f"未知类型 unknown kind {row['kind']!r} (part/event)", "kind"))
            continue
        for field in COLUMNS[1:]:
            if not row[field]:
                errors.append(RowError(name, line, "不能为空 must not be empty", field))
        if not all(row[f] for f in COLUMNS[1:]):
            continue
        major_key = (kind, row["major_code"])
        if majors.setdefault(major_key, row["major_name"]) != row["major_name"]:
            errors.append(
                RowError(name, line, f"大类名称不一致 major class named differently before: {majors[major_key]}")
            )
        minor_key = (kind, row["minor_code"])
        if minor_key in minors or minor_key in majors:
            errors.append(RowError(name, line, f"重复编码 duplicate code {row['minor_code']}", "minor_code"))
            continue
        minors[minor_key] = (row["minor_name"], major_key)
    if errors:
        raise ImportRejected(errors)
    result = TaxonomyResult()
    existing = {(c.kind, c.code): c for c in Category.objects.all()}
    seen = set()

    def upsert(key, name_, parent):
        seen.add(key)
        category = existing.get(key)
        if category is None:
            category = Category.objects.create(kind=key[0], code=key[1], name=name_, parent=parent, edition=edition)
            existing[key] = category
            result.created += 1
        elif (category.name, category.parent_id, category.is_active, category.edition) != (
            name_,
            parent.pk if parent else None,
            True,
            edition,
        ):
            category.name, category.parent, category.is_active, category.edition = name_, parent, True, edition
            category.save()
            result.updated += 1
        return category

    for key, major_name in majors.items():
        upsert(key, major_name, None)
    for key, (minor_name, major_key) in minors.items():
        upsert(key, minor_name, existing[major_key])
    stale = [c.pk for key, c in existing.items() if key not in seen and c.is_active]
    result.deactivated = Category.objects.filter(pk__in=stale).update(is_active=False)
    return result
