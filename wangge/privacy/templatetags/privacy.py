from django import template

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
