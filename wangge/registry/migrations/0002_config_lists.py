from django.db import migrations


def load(apps, schema_editor):
    from wangge.registry.seed import ensure_config_lists

    ensure_config_lists(
        apps.get_model("registry", "BuildingUse"), apps.get_model("registry", "PlaceType"), apps.get_model("registry", "Tag")
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
