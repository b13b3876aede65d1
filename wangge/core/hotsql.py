"""Plain-SQL writes for the hot paths (case intake, case events, GPS positions), through Django's
connection, with values adapted by their model fields.

insert(obj): one new row without Model.save().

Model.save() spends 0.1–0.4 ms of Python per new row on machinery a plain new row does not need
(updates, inheritance, select_on_save, a fresh SQL compile each time), and on SQLite that time is
spent holding the database's single write lock, so it capped intake for every writer. insert()
does what save() does for a new row: defaults and pre_save() (auto_now), conversion to database
values, the id back (RETURNING), the pre_save/post_save signals with created=True; the statement
is built once per model. Expression values (e.g. RawSQL) go into the statement and come back from
RETURNING like the id. About 10× less Python per row (docs/benchmarks.md, intake).

update(model, where, values): one UPDATE … SET … WHERE …; the rows changed. Building the same
statement with the ORM cost more than running it (about 0.3 ms; docs/benchmarks.md, tracks).
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import AutoField
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

_statements: dict[tuple, tuple] = {}  # (model, alias) → (fields, INSERT … VALUES prefix, RETURNING suffix)


def insert(obj, using: str = DEFAULT_DB_ALIAS):
    """INSERT obj (a new row of a plain model) and return it, saved, with its id."""
    model = type(obj)
    connection = connections[using]
    fields, prefix, returning = _statement(model, using)
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    placeholders, params, returned = [], [], [model._meta.pk]
    for field in fields:
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression"):
            query = InsertQuery(model)
            sql, expression_params = query.get_compiler(using).compile(
                value.resolve_expression(query, allow_joins=False, for_save=True)
            )
            placeholders.append(sql)
            params.extend(expression_params)
            returned.append(field)
        else:
            placeholders.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    suffix = returning if len(returned) == 1 else ", ".join(connection.ops.quote_name(f.column) for f in returned)
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix}{', '.join(placeholders)}) RETURNING {suffix}", params)
        row = cursor.fetchone()
    for field, value in zip(returned, row, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using)
    return obj


def _statement(model, using):
    key = (model, using)
    if key not in _statements:
        quote = connections[using].ops.quote_name
        opts = model._meta
        fields = [f for f in opts.concrete_fields if not isinstance(f, AutoField)]
        columns = ", ".join(quote(f.column) for f in fields)
        prefix = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ("
        _statements[key] = (fields, prefix, quote(opts.pk.column))
    return _statements[key]


def db_values(model, values: dict) -> tuple[list[str], list]:
    """Quoted column names and database values of {field name: value} (default database)."""
    fields = [model._meta.get_field(name) for name in values]
    columns = [_quoted_column(f) for f in fields]
    return columns, [f.get_db_prep_save(v, connection) for f, v in zip(fields, values.values(), strict=True)]


@cache
def _quoted_column(field) -> str:
    return connection.ops.quote_name(field.column)


def update(model, where: dict, values: dict) -> int:
    """UPDATE … SET values WHERE where ({"field op": value}, joined by AND); the number of rows changed."""
    columns, params = db_values(model, values)
    conditions = []
    for key, value in where.items():
        name, op = key.split()
        (column,), (param,) = db_values(model, {name: value})
        conditions.append(f"{column} {op} %s")
        params.append(param)
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{c} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE {' AND '.join(conditions)}", params)
        return cursor.rowcount
