"""{% load transfer %}: whether a user may import into / export a register (to show the buttons)."""

from django import template
from django.http import Http404

from wangge.jobs import registers

register = template.Library()


@register.filter
def may_import(user, name) -> bool:
    try:
        return registers.import_spec(name).permitted(user)
    except Http404:
        return False


@register.filter
def may_export(user, name) -> bool:
    try:
        return registers.export_spec(name).permitted(user)
    except Http404:
        return False
