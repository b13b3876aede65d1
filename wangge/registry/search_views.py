"""The exact search of people (a full ID number, passport or phone): a POST with the value and a
reason, answered by a redirect to the list with the stored search's token (?search=…), so the
number never appears in a URL, an access log or an export link."""

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from wangge.core.clientip import client_ip
from wangge.privacy.actions import REASON_MAX
from wangge.privacy.search import BudgetExhausted

from . import exact


class ExactSearchForm(forms.Form):
    value = forms.CharField(label=_("Full ID number, passport number or phone"), max_length=40)
    reason = forms.CharField(label=_("Reason (logged)"), max_length=REASON_MAX, required=False)


@login_required
@require_POST
def person_search(request):
    from .views import person_list_context

    form = ExactSearchForm(request.POST)
    status, retry_after = 400, 0
    if form.is_valid():
        try:
            stored, _people = exact.find_people(
                request.user, form.cleaned_data["value"], form.cleaned_data["reason"], ip=client_ip(request)
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except BudgetExhausted as exc:
            form.add_error(None, str(exc))
            status, retry_after = 429, exc.retry_after
        else:
            return redirect(reverse("registry:person_list") + "?" + urlencode({"search": stored.token.hex}))
    response = render(request, "registry/person_list.html", person_list_context(request, form), status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
