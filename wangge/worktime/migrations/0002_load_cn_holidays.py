"""Every fresh database gets the PRC public holidays and make-up workdays of data/cn_holidays.csv."""

from django.db import migrations


def load(apps, schema_editor):
    from wangge.worktime.holidays import DATA_FILE, parse_holiday_file

    CalendarDay = apps.get_model("worktime", "CalendarDay")
    for row in parse_holiday_file(DATA_FILE):
        CalendarDay.objects.update_or_create(
            date=row["date"], defaults={"kind": row["kind"], "name": row["name"], "source": DATA_FILE.name}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("worktime", "0001_initial"),
    ]

    # Backwards keeps the rows: the table itself goes when 0001 is unapplied.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
