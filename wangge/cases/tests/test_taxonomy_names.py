"""The shipped taxonomy: no two classes of one kind share a name under the same major class (a
picker could not tell them apart), the source's slips corrected, and existing databases corrected
by the migration (cases/data/SOURCES.md lists every change)."""

import csv
import importlib
from collections import Counter

import pytest
from django.apps import apps

from wangge.cases.models import Category
from wangge.cases.taxonomy import BUNDLED
from wangge.core.models import CacheVersion

migration = importlib.import_module("wangge.cases.migrations.0009_taxonomy_name_corrections")


def test_the_shipped_file_names_no_two_classes_alike_under_one_major_class():
    with open(BUNDLED, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = Counter((r["kind"], r["major_code"], r["minor_name"]) for r in rows)
    assert [key for key, n in names.items() if n > 1] == []
    assert not any("烩" in r["minor_name"] or "，" in r["minor_name"] for r in rows)
    shipped = {(r["kind"], r["minor_code"]): r["minor_name"] for r in rows}
    assert all(shipped[(kind, code)] == new for kind, code, _old, new in migration.RENAMES)


@pytest.mark.django_db
def test_no_two_categories_share_a_name_under_the_same_parent_and_kind():
    assert Category.objects.count() > 100  # the demo city's taxonomy, loaded from the shipped file
    names = Counter(Category.objects.values_list("kind", "parent_id", "name"))
    assert [key for key, n in names.items() if n > 1] == []


@pytest.mark.django_db
def test_the_migration_corrects_a_database_loaded_from_the_source_names():
    for kind, code, old, _new in migration.RENAMES:
        Category.objects.filter(kind=kind, code=code).update(name=old)
    Category.objects.filter(kind="event", code="0115").update(name="焚烧树叶和垃圾")  # changed by someone: kept
    before = CacheVersion.objects.filter(name="cases.config").values_list("version", flat=True).first() or 0
    migration.forwards(apps, None)
    named = dict(Category.objects.values_list("code", "name").filter(kind="part", code__in=["0131", "0133", "0135"]))
    assert named == {"0131": "沟槽厕所盖板", "0133": "燃气调压站", "0135": "燃气调压箱"}
    assert Category.objects.get(kind="part", code="0198").name == "沟槽厕所盖板（补录）"
    assert Category.objects.get(kind="event", code="0115").name == "焚烧树叶和垃圾"
    assert CacheVersion.objects.get(name="cases.config").version > before
    migration.backwards(apps, None)
    assert Category.objects.get(kind="part", code="0135").name == "燃气调压站（箱）"
    assert Category.objects.get(kind="part", code="0198").name == "沟槽厕所盖板"
