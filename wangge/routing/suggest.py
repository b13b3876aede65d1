"""Suggestions for a text: the active model's best labels, each turned into what a dispatcher
picks — the category (部件/事件), the matter item, the department — with the model's confidence."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wangge.accounts.models import Department
from wangge.cases import refs

from . import serving

MAX_DESCRIPTION = 2000
MIN_SUGGESTIONS = 3
MAX_SUGGESTIONS = 10


def check_text(description) -> str:
    text = (description or "").strip() if isinstance(description, str) else None
    if text is None:
        raise ValidationError({"description": _("Enter the description as text.")})
    if not text:
        raise ValidationError({"description": _("Enter a description to suggest from.")})
    if len(text) > MAX_DESCRIPTION:
        message = _("At most %(n)s characters (this one has %(m)s).") % {"n": MAX_DESCRIPTION, "m": len(text)}
        raise ValidationError({"description": message})
    return text


def check_place(lat, lng) -> tuple[float | None, float | None]:
    if lat is None and lng is None:
        return None, None
    errors = {}
    if lat is None or not isinstance(lat, int | float) or not -90 <= lat <= 90:
        errors["lat"] = _("A latitude between -90 and 90, with the longitude.")
    if lng is None or not isinstance(lng, int | float) or not -180 <= lng <= 180:
        errors["lng"] = _("A longitude between -180 and 180, with the latitude.")
    if errors:
        raise ValidationError(errors)
    return float(lat), float(lng)


def _matter_items_by_label(config) -> dict:
    """label → the active matter item that stands for it: the item itself for `item:` labels, the
    first item (by code) of a category for category labels."""
    result = {}
    for code in sorted(config.matter_items):
        item = config.matter_items[code]
        if item.category_id and item.category:
            result.setdefault(f"{item.category.kind}:{item.category.code}", item)
        result.setdefault(f"item:{code}", item)
    return result


def suggest(description, lat=None, lng=None, *, k: int = 5, departments=None) -> tuple[list[dict], int | None]:
    """(suggestions best first, the serving model's version). departments: a queryset limiting the
    departments that may be named (e.g. those that serve a case's area); default: every active one."""
    text = check_text(description)
    check_place(lat, lng)
    served = serving.current()
    if served is None:
        return [], None
    k = max(MIN_SUGGESTIONS, min(k, MAX_SUGGESTIONS))
    ranked = served.model.rank(text, k)
    config = refs.get()
    items = _matter_items_by_label(config)
    model = served.model
    # Per label, the departments in order of trust: this city's own decisions, the matter item's
    # configured department, the shipped set's. One query finds which of them may be named.
    choices = {
        label: [
            model.learned_department(label),
            items[label].department.code if label in items and items[label].department_id else None,
            model.shipped_departments.get(label),
        ]
        for label, _p in ranked
    }
    wanted = {code for codes in choices.values() for code in codes if code}
    available = departments if departments is not None else Department.objects.all()
    by_code = {d.code: d for d in available.filter(code__in=wanted, is_active=True)}
    result = []
    for label, score in ranked:
        kind, _sep, code = label.partition(":")
        category = config.categories.get((kind, code)) if kind in ("part", "event") else None
        item = items.get(label)
        if category is None and item is None:
            continue  # a class this city has switched off
        department = next((by_code[c] for c in choices[label] if c in by_code), None)
        result.append(
            {
                "label": label,
                "category": f"{category.kind}:{category.code}" if category else None,
                "category_name": category.name if category else (item.name if item else ""),
                "matter_item": item.code if item else None,
                "matter_item_name": item.name if item else None,
                "department": department.code if department else None,
                "department_name": department.name if department else None,
                "score": round(score, 4),
            }
        )
    return result, served.version
