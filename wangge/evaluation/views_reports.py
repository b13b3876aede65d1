"""Ranking, report, subject and drill-down pages (being built)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=404)


ranking = compute = report = publish = print_report = export = subject = cases = _todo
