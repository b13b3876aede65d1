from django.db import migrations, models


def mark_every_day(apps, schema_editor):
    """The figures changed meaning (a rejected case is no longer finished; accepted returns counted
    apart): every day that has figures is marked for the worker to recompute (refresh_figures),
    so the dashboards keep showing the old figures until then, never nothing."""
    db = schema_editor.connection.alias
    DailyCaseFigure = apps.get_model("insight", "DailyCaseFigure")
    DailyDepartmentFigure = apps.get_model("insight", "DailyDepartmentFigure")
    DirtyDay = apps.get_model("insight", "DirtyDay")
    days = set(DailyCaseFigure.objects.using(db).values_list("day", flat=True).distinct())
    days |= set(DailyDepartmentFigure.objects.using(db).values_list("day", flat=True).distinct())
    DirtyDay.objects.using(db).bulk_create([DirtyDay(day=day) for day in sorted(days)], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailydepartmentfigure",
            name="returns_accepted",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(mark_every_day, migrations.RunPython.noop, elidable=True),
    ]
