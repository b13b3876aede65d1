"""Change records in the users' words: field labels, choice labels, related rows by name.

A record keeps the raw snapshot (codes, ids, enum values) so it stays exact after labels change;
this turns it into what a page shows: 人员类型: 流动人口 → 户籍人口, 用途: 商铺, 边界已修改.
Related rows named by id or code are read in one query per model for the whole list.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

# ChangeRecord.source: where the change came from (set by the middleware, commands and tasks).
SOURCES = {
    "web": pgettext_lazy("change source", "web page"),
    "api": pgettext_lazy("change source", "API"),
    "admin": pgettext_lazy("change source", "admin site"),
    "command": pgettext_lazy("change source", "command line"),
    "worker": pgettext_lazy("change source", "background task"),
    "system": pgettext_lazy("change source", "system"),
}
# Snapshot keys that stand for a field under another name (personal data keeps its masked copy).
ALIASES = ("_masked", "_id")
GEOMETRY = {"boundary", "geometry", "geom"}  # GeoJSON: too large to show; say what happened


@dataclass
class Change:
    label: str
    old: str | None = None
    new: str | None = None
    note: str = ""  # instead of old → new (a boundary)


def source_label(source: str) -> str:
    return str(SOURCES.get(source, source))


def field_of(model, key: str):
    if model is None:
        return None
    for name in (key, *(key + suffix for suffix in ALIASES)):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def lookup_key(field, value):
    """(related model, lookup field) for a related row named by id, code or username; else None."""
    if not (field is not None and field.is_relation and field.related_model):
        return None
    related = field.related_model
    if isinstance(value, int) and not isinstance(value, bool):
        return related, "pk"
    if isinstance(value, str):
        names = {f.name for f in related._meta.concrete_fields}
        if related is get_user_model():
            return related, "username"
        if "code" in names:
            return related, "code"
    return None


def describe(records) -> list:
    """The records, each with .source_label and .changes (a list of Change)."""
    records = list(records)
    wanted = defaultdict(set)  # (model, lookup field) → values
    prepared = []
    for record in records:
        ct = record.object_type
        model = ct.model_class() if ct else None
        rows = []
        for key, old, new in record.changed_fields():
            field = field_of(model, key)
            for value in (old, new):
                for item in value if isinstance(value, list) else [value]:
                    target = lookup_key(field, item)
                    if target:
                        wanted[target].add(item)
            rows.append((key, field, old, new))
        prepared.append((record, rows))
    names = {}
    for (model, lookup), values in wanted.items():
        attr = "pk" if lookup == "pk" else lookup
        for row in model._default_manager.filter(**{f"{lookup}__in": values}):
            names[(model, lookup, getattr(row, attr))] = str(row)
    for record, rows in prepared:
        record.source_label = source_label(record.source)
        changes = (change(key, field, old, new, names) for key, field, old, new in rows)
        record.changes = [c for c in changes if c.note or c.old is not None or c.new is not None]  # "" → None
    return records


def change(key, field, old, new, names) -> Change:
    label = capfirst(field.verbose_name) if field is not None else key
    if key in GEOMETRY or isinstance(field, models.JSONField) and key in GEOMETRY:
        if old is None:
            return Change(label, note=_("boundary drawn"))
        if new is None:
            return Change(label, note=_("boundary removed"))
        return Change(label, note=_("boundary changed"))
    return Change(label, shown(field, old, names), shown(field, new, names))


def shown(field, value, names):
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return "、".join(shown(field, item, names) or "—" for item in value)
    if isinstance(value, bool):
        return pgettext("history value", "yes") if value else pgettext("history value", "no")
    if isinstance(value, dict):
        return pgettext("history value", "(changed)")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    target = lookup_key(field, value)
    if target:
        return names.get((*target, value), str(value))
    return str(value)
