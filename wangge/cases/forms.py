"""Forms of the case pages. They only shape input; the rules are in actions and channels.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import channels
from .models import Category, Channel, MatterItem, Severity


def category_choices():
    choices = [("", _("— not sure —"))]
    for c in Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent"):
        choices.append((f"{c.kind}:{c.code}", f"{c.parent.name} / {c.name}"))
    return choices


class ReportForm(forms.Form):
    """The citizen's report: what, where (a point on the map), a phone to tell them the outcome."""

    description = forms.CharField(label=_("What is the problem?"), widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ChoiceField(label=_("Category"), required=False)
    address = forms.CharField(label=_("Address or landmark"), required=False, max_length=200)
    lat = forms.FloatField(label=_("Latitude"), required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(label=_("Longitude"), required=False, widget=forms.HiddenInput)
    reporter_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=50)
    reporter_phone = forms.CharField(label=_("Your mobile phone"), max_length=20)
    photo = forms.FileField(label=_("Photo"), required=False)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()


class StaffCaseForm(ReportForm):
    """The hotline operator's and staff's entry form: also area, matter item and severity."""

    area_code = forms.CharField(label=_("Area code (when there is no point)"), required=False, max_length=20)
    matter_item = forms.ChoiceField(label=_("Matter item"), required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.NORMAL)
    channel = forms.ChoiceField(label=_("Channel"), choices=[])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reporter_phone"].required = False
        self.fields["reporter_phone"].label = _("Reporter's phone")
        self.fields["reporter_name"].label = _("Reporter's name")
        self.fields["matter_item"].choices = [("", "—")] + [
            (m.code, m.name) for m in MatterItem.objects.filter(is_active=True)
        ]
        # Only the channels and urgency this user's roles may use (the rule table intake enforces).
        self.fields["channel"].choices = [(c, Channel(c).label) for c in channels.channels_for(user, staff_form=True)]
        if not channels.may_set_urgency(user):
            self.fields["severity"].choices = [c for c in Severity.choices if c[0] != Severity.URGENT]


class TrackForm(forms.Form):
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=12)


class EvaluateForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        coerce=int,
        choices=[(5, "5 ★★★★★"), (4, "4 ★★★★"), (3, "3 ★★★"), (2, "2 ★★"), (1, "1 ★")],
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
