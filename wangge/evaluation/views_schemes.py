"""Scheme pages (being built)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=404)


scheme_list = scheme_new = scheme_detail = scheme_edit = _todo
