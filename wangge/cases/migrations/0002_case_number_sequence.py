"""PostgreSQL: the sequence the case number takes its serial from (actions._number_expression),
started above every id so far, so that numbers of earlier cases (date + id) never clash."""

from django.db import migrations


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite numbers from the table's own AUTOINCREMENT counter
    schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS cases_case_number_seq")
    schema_editor.execute(
        "SELECT setval('cases_case_number_seq', GREATEST(MAX(id), 1), MAX(id) IS NOT NULL) FROM cases_case"
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS cases_case_number_seq")


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
