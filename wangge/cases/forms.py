"""Forms of the case pages. They only shape input; the rules are in actions and channels.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.web.pickers import picker

from . import channels, refs
from .models import Channel, MatterItem, Severity

SEARCH_CATEGORY = _("Search: name or pinyin initials, e.g. ljx")


def category_choices(majors: bool = False):
    """(kind:code, label) of the minor classes, or with majors=True of every class, each minor class
    after its major class (the queue's filter takes either; the kind, 部件/事件, names the list).
    From the per-process reference rows (cases.refs): no query per page."""
    categories = refs.get().categories  # (kind, code) → Category, in that order
    by_id = {c.pk: c for c in categories.values()}
    if majors:
        choices = []
        for c in categories.values():
            parent = by_id.get(c.parent_id)
            name = f"{parent.name} / {c.name}" if parent else c.name
            choices.append((f"{c.kind}:{c.code}", f"{c.get_kind_display()} · {name}"))
        return choices
    choices = [("", _("— not sure —"))]
    for c in categories.values():
        if c.parent_id in by_id:
            choices.append((f"{c.kind}:{c.code}", f"{by_id[c.parent_id].name} / {c.name}"))
    return choices


class ReportForm(forms.Form):
    """The citizen's report: what, where (a point on the map), a phone to tell them the outcome."""

    description = forms.CharField(label=_("What is the problem?"), widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ChoiceField(
        label=_("Category"), required=False, widget=forms.Select(attrs=picker("pick_categories", SEARCH_CATEGORY))
    )
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

    area_code = forms.CharField(
        label=_("Area (when there is no point)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs=picker("pick_areas", _("Search an area: name or pinyin initials"))),
    )
    matter_item = forms.ChoiceField(
        label=_("Matter item"),
        required=False,
        widget=forms.Select(attrs=picker("pick_matter_items", _("Search: name or pinyin initials"))),
    )
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
