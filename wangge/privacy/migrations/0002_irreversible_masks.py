"""Stored ID masks and change records in the irreversible form (issue 13).

The old mask kept the region and the last four (441900********123X) and the change records kept the
full birth date beside it, which together gave the number back. The new mask (first and last
character) is computed from the old one, so nothing is decrypted; change records keep the birth year.
"""

from django.db import migrations

from wangge.core.pii import mask_id_number

BATCH = 2000


def _year(value):
    return value[:4] if isinstance(value, str) and len(value) >= 4 else value


def _remask_rows(model, field="id_number_masked"):
    rows = model.objects.exclude(**{field: ""}).only("pk", field)
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        new = mask_id_number(getattr(row, field))
        if new != getattr(row, field):
            setattr(row, field, new)
            changed.append(row)
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, [field])
            changed = []
    if changed:
        model.objects.bulk_update(changed, [field])


def _snapshot(data):
    if not isinstance(data, dict):
        return data, False
    out = dict(data)
    if out.get("id_number"):
        out["id_number"] = mask_id_number(out["id_number"])
    if out.get("birth_date"):
        out["birth_date"] = _year(out["birth_date"])
    return out, out != data


def forwards(apps, schema_editor):
    _remask_rows(apps.get_model("registry", "Person"))
    _remask_rows(apps.get_model("watch", "WatchEntry"))
    ContentType = apps.get_model("contenttypes", "ContentType")
    ChangeRecord = apps.get_model("history", "ChangeRecord")
    kinds = ContentType.objects.filter(app_label="registry", model="person") | ContentType.objects.filter(
        app_label="watch", model="watchentry"
    )
    changed = []
    for record in ChangeRecord.objects.filter(object_type__in=list(kinds)).iterator(chunk_size=BATCH):
        record.before, moved_before = _snapshot(record.before)
        record.after, moved_after = _snapshot(record.after)
        if moved_before or moved_after:
            changed.append(record)
        if len(changed) >= BATCH:
            ChangeRecord.objects.bulk_update(changed, ["before", "after"])
            changed = []
    if changed:
        ChangeRecord.objects.bulk_update(changed, ["before", "after"])


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("registry", "0004_person_name_key"),
        ("watch", "0001_initial"),
        ("history", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
