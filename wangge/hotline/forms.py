"""The desk's entry form: the shared report fields (pickers, place search, map) in call order."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from wangge.cases.forms import StaffCaseForm
from wangge.cases.models import Severity

from .actions import COMPLAINT, CONSULTATION


class CallForm(StaffCaseForm):
    kind = forms.ChoiceField(
        label=_("Kind of call"),
        choices=[(COMPLAINT, _("Complaint or request (dispatched)")), (CONSULTATION, _("Consultation (answered now)"))],
        initial=COMPLAINT,
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Answer given (consultation)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    field_order = [
        "reporter_phone", "reporter_name", "kind", "description", "answer",
        "category", "matter_item", "severity", "address",
    ]  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        for name in ("photo", "channel", "area_code"):
            del self.fields[name]
        phone = self.fields["reporter_phone"]
        phone.required = True
        phone.label = _("Caller's number")
        phone.widget.attrs.update(
            {
                "autofocus": True,
                "data-shortcut": "1",
                "inputmode": "tel",
                "autocomplete": "off",
                "hx-post": reverse_lazy("hotline:caller"),  # the number in the body, not the URL
                "hx-trigger": "input changed delay:250ms, search",
                "hx-target": "#caller-history",
                "hx-sync": "this:replace",
            }
        )
        self.fields["reporter_name"].label = _("Caller's name")
        self.fields["description"].label = _("What the caller says")
        self.fields["description"].widget.attrs.update({"data-shortcut": "2", "rows": 3})
        self.fields["severity"].initial = Severity.NORMAL
        self.fields["severity"].label = _("Urgency")
        self.order_fields(self.field_order)
