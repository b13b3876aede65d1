"""Risk class 3 (三级（高）) is the highest: its buildings are inspected most often and listed first.
The shipped building rules had it backwards (class 1 every 7 days, class 3 every 90); a rule still
as shipped is turned round, a rule someone changed is left as they set it."""

from django.db import migrations, models

SHIPPED = {1: 7, 3: 90}  # risk class: every days, as wrongly shipped
RIGHT = {1: 90, 3: 7}


def turn_round(apps, schema_editor):
    InspectionRule = apps.get_model("patrol", "InspectionRule")
    for risk, every in SHIPPED.items():
        InspectionRule.objects.filter(
            target_kind="building", risk_class=risk, every_days=every, checklist_code="building_visit"
        ).update(every_days=RIGHT[risk])


def turn_back(apps, schema_editor):
    InspectionRule = apps.get_model("patrol", "InspectionRule")
    for risk, every in RIGHT.items():
        InspectionRule.objects.filter(
            target_kind="building", risk_class=risk, every_days=every, checklist_code="building_visit"
        ).update(every_days=SHIPPED[risk])


class Migration(migrations.Migration):
    dependencies = [("patrol", "0004_resident_registration_track_revision")]

    operations = [
        migrations.AlterModelOptions(
            name="inspectiontask",
            options={
                "ordering": ["-risk_class", "due_date"],
                "verbose_name": "inspection task",
                "verbose_name_plural": "inspection tasks",
            },
        ),
        migrations.AlterField(
            model_name="inspectiontask",
            name="risk_class",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "Class 1 (low)"), (2, "Class 2 (medium)"), (3, "Class 3 (high)")],
                default=1,
                verbose_name="risk class",
            ),
        ),
        migrations.RunPython(turn_round, turn_back),
    ]
