from django import template

from .. import shown
from ..actions import may_reveal
from ..revealable import masked_value, type_label

register = template.Library()


@register.inclusion_tag("privacy/_pii.html", takes_context=True)
def pii(context, obj, field):
    """{% pii person "id_number" %}: the masked value, and "show in full" for users who may."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "obj": obj,
        "type": type_label(obj),
        "field": field,
        "masked": masked_value(obj, field),
        "may_reveal": may_reveal(user),
        "csrf_token": context.get("csrf_token"),
    }


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def sees_birth_date(context) -> bool:
    """{% sees_birth_date as full %}: whether this user sees birth dates (else the year only)."""
    return shown.sees_birth_date(_user(context))


@register.simple_tag(takes_context=True)
def birth(context, value):
    """{% birth person.birth_date %}: the date, or the year only (wangge.privacy.shown decides)."""
    return shown.birth_text(_user(context), value) or "—"
