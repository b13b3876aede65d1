"""The shipped taxonomy's corrections (cases/data/SOURCES.md): the source's slips fixed and the two
classes named 燃气调压站（箱） told apart. A name someone changed since is left as they set it."""

from django.db import migrations

# kind, code, the source's name, the corrected name
RENAMES = [
    ("part", "0198", "沟槽厕所盖板", "沟槽厕所盖板（补录）"),  # first: 0131 takes its name next
    ("part", "0131", "烩沟槽厕所盖板", "沟槽厕所盖板"),
    ("part", "0133", "燃气调压站（箱）", "燃气调压站"),
    ("part", "0135", "燃气调压站（箱）", "燃气调压箱"),
    ("part", "0298", "其它", "其他"),
    ("event", "0115", "焚烧树叶，垃圾", "焚烧树叶、垃圾"),
]


def rename(apps, rows):
    Category = apps.get_model("cases", "Category")
    changed = sum(
        Category.objects.filter(kind=kind, code=code, name=old).update(name=new) for kind, code, old, new in rows
    )
    if changed:  # every process reloads its cached categories (core.refcache)
        CacheVersion = apps.get_model("core", "CacheVersion")
        version, _ = CacheVersion.objects.get_or_create(name="cases.config")
        CacheVersion.objects.filter(pk=version.pk).update(version=version.version + 1)


def forwards(apps, schema_editor):
    rename(apps, RENAMES)


def backwards(apps, schema_editor):
    rename(apps, [(kind, code, new, old) for kind, code, old, new in reversed(RENAMES)])


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_case_recurrence_index"), ("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
