"""Idempotency keys per client (issue 13): a digest of the report a key came with, and sensor alarms'
keys moved out of the public space (a public post with key "sensor:<code>:<id>" could take them)."""

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat, Substr


def move_sensor_keys(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Case.objects.filter(channel="sensor", idempotency_key__startswith="public:sensor:").update(
        idempotency_key=Concat(Value("system:"), Substr("idempotency_key", len("public:") + 1))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_duplicate_check_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="idempotency_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(move_sensor_keys, migrations.RunPython.noop),
    ]
