from django.db import migrations


def install(apps, schema_editor):
    from wangge.evaluation.schemes import install as install_schemes

    install_schemes(apps.get_model("evaluation", "Scheme"), apps.get_model("evaluation", "SchemeVersion"))


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
