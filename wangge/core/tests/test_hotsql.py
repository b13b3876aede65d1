"""core.hotsql: insert() does what Model.save() does for a new row; update() is one conditional UPDATE."""

from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save

from wangge.core.hotsql import insert
from wangge.core.models import CacheVersion


def test_insert_saves_defaults_returns_the_id_and_tells_post_save(db):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created, kwargs["raw"]))

    post_save.connect(receiver, sender=CacheVersion)
    try:
        row = insert(CacheVersion(name="inserted"))
    finally:
        post_save.disconnect(receiver, sender=CacheVersion)
    assert row.pk is not None and not row._state.adding and row._state.db == "default"
    stored = CacheVersion.objects.get(pk=row.pk)
    assert (stored.name, stored.version) == ("inserted", 0)  # the field default
    assert seen == [(row.pk, True, False)]


def test_an_expression_value_is_written_by_the_insert_and_comes_back(db):
    row = insert(CacheVersion(name=RawSQL("%s || %s", ["made-by-", "sql"]), version=7))
    assert row.name == "made-by-sql"
    assert CacheVersion.objects.get(pk=row.pk).name == "made-by-sql"


def test_update_changes_only_the_rows_its_conditions_match(db):
    from wangge.core.hotsql import update

    row = CacheVersion.objects.create(name="counted", version=3)
    assert update(CacheVersion, {"id =": row.pk, "version =": 2}, {"version": 9}) == 0  # stale: nothing
    assert update(CacheVersion, {"id =": row.pk, "version =": 3}, {"version": 4}) == 1
    assert CacheVersion.objects.get(pk=row.pk).version == 4
