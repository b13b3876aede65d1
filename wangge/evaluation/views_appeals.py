"""Appeal pages (being built)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=404)


appeal_list = appeal_new = appeal_detail = _todo
