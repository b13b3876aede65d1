from django import template

from wangge.history.display import describe

register = template.Library()


@register.filter
def described(records):
    """{% for r in records|described %}: each record with .source_label and .changes."""
    return describe(records)
