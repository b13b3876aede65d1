"""{% load transfer %}: whether a user may import into / export a register (to show the buttons)."""

from django import template
from django.http import Http404
from django.utils.translation import pgettext_lazy

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


# What an import's counts mean ({"created": 3} → 新增 3 条); the writers' keys.
COUNT_LABELS = {
    "created": pgettext_lazy("import counts", "%(n)s created"),
    "updated": pgettext_lazy("import counts", "%(n)s updated"),
}


@register.filter
def register_title(job) -> str:
    return registers.title(job.register, job.kind)


@register.filter
def count_label(key, n) -> str:
    label = COUNT_LABELS.get(key)
    return label % {"n": n} if label else f"{key}: {n}"
