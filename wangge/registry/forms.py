"""Forms of the register pages. They only shape input; the rules are in actions.py, whose errors
land back on the form's fields."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.web.pickers import picker

from .models import BuildingUse, LicenceStatus, PersonType, PlaceType, RentalStatus, RiskClass, Tag, TagKind

SEARCH_ADDRESS = _("Search: any part of the address, or its code")
SEARCH_BUILDING = _("Search: the building's address, name or code")


def address_input():
    return forms.TextInput(attrs=picker("registry:pick_addresses", SEARCH_ADDRESS))


def building_input(rooms: bool = False):
    return forms.TextInput(attrs=picker("registry:pick_buildings", SEARCH_BUILDING, "?rooms=1" if rooms else ""))


class AddressForm(forms.Form):
    code = forms.CharField(label=_("Address code (blank: assigned)"), required=False, max_length=40)
    town = forms.CharField(label=_("Town / street"), required=False, max_length=50)
    community = forms.CharField(label=_("Village / community"), required=False, max_length=50)
    road = forms.CharField(label=_("Road / street"), required=False, max_length=80)
    number = forms.CharField(label=_("Door number"), required=False, max_length=30)
    building_no = forms.CharField(label=_("Building"), required=False, max_length=30)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=30)
    room = forms.CharField(label=_("Room"), required=False, max_length=30)
    full_text = forms.CharField(label=_("Full address (blank: the parts joined)"), required=False, max_length=300)
    lat = forms.FloatField(label=_("Latitude (WGS-84)"))
    lng = forms.FloatField(label=_("Longitude (WGS-84)"))


class BuildingForm(forms.Form):
    code = forms.CharField(label=_("Building code (blank: assigned)"), required=False, max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.CharField(label=_("Standard address"), max_length=40, widget=address_input())
    use = forms.ChoiceField(label=_("Use"))
    floors = forms.IntegerField(label=_("Floors"), min_value=1, max_value=200)
    risk_class = forms.TypedChoiceField(label=_("Risk class"), choices=RiskClass.choices, coerce=int)
    contact_name = forms.CharField(label=_("Owner / manager"), required=False, max_length=50)
    contact_phone = forms.CharField(
        label=_("Owner / manager phone"), required=False, max_length=20, help_text=_("Blank keeps the stored one.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["use"].choices = [(u.code, u.name) for u in BuildingUse.objects.filter(is_active=True)]


class RoomForm(forms.Form):
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20)
    number = forms.CharField(label=_("Room number"), max_length=20)
    floor = forms.IntegerField(label=_("Floor"), required=False)
    size_sqm = forms.FloatField(label=_("Floor area (m²)"), required=False)
    is_occupied = forms.BooleanField(label=_("Occupied"), required=False)


def tag_choices(kind):
    return [(t.code, t.name) for t in Tag.objects.filter(kind=kind, is_active=True)]


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    person_type = forms.ChoiceField(label=_("Person type"), choices=PersonType.choices)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=20)
    passport = forms.CharField(label=_("Passport number (overseas)"), required=False, max_length=20)
    nationality = forms.CharField(label=_("Nationality"), required=False, max_length=40)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)
    tags = forms.MultipleChoiceField(label=_("Tags"), required=False, widget=forms.CheckboxSelectMultiple)
    # A new person's residence: a room picked by its building's address (its id), or for someone
    # without a registered residence, the area they live in.
    room = forms.IntegerField(
        label=_("Residence (search the building by address, then its room)"),
        required=False,
        widget=forms.TextInput(attrs=picker("registry:pick_buildings", SEARCH_BUILDING, "?rooms=pk")),
    )
    area_code = forms.CharField(
        label=_("Or the area (no registered residence)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs=picker("pick_areas", _("Search an area: name or pinyin initials"))),
    )
    moved_in = forms.DateField(label=_("Moved in on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = tag_choices(TagKind.PERSON)
        if editing:
            for f in ("room", "area_code", "moved_in"):
                del self.fields[f]
            for f in ("id_number", "passport", "phone"):
                self.fields[f].help_text = _("Blank keeps the stored number.")


class MoveForm(forms.Form):
    # The picker finds the building by its standard address; picking one of its rooms fills `room` too.
    building = forms.CharField(label=_("Building (search by address)"), max_length=40, widget=building_input(True))
    room = forms.CharField(label=_("Room (number, or unit-number)"), max_length=41)
    moved_in = forms.DateField(label=_("Moved in on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class RentalForm(forms.Form):
    building = forms.CharField(
        label=pgettext_lazy("a register's building", "Building"), max_length=40, widget=building_input()
    )
    rooms = forms.MultipleChoiceField(
        label=_("Rooms rented out (none: the whole building)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(label=_("Status"), choices=RentalStatus.choices)
    landlord_user = forms.CharField(label=_("Landlord account (user name)"), required=False, max_length=150)
    landlord_name = forms.CharField(label=_("Landlord"), required=False, max_length=50)
    landlord_phone = forms.CharField(
        label=_("Landlord phone"), required=False, max_length=20, help_text=_("Blank keeps the stored one.")
    )
    registered_on = forms.DateField(
        label=_("Registered on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, rooms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rooms"].choices = [(str(r.pk), str(r)) for r in rooms]


class PlaceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    place_type = forms.ChoiceField(label=_("Type"))
    credit_code = forms.CharField(label=_("Unified social credit code"), required=False, max_length=20)
    licence_status = forms.ChoiceField(label=_("Licence"), choices=LicenceStatus.choices)
    licence_expires = forms.DateField(
        label=_("Licence expires"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.CharField(label=_("Standard address"), max_length=40, widget=address_input())
    building = forms.CharField(
        label=pgettext_lazy("a register's building", "Building"), required=False, max_length=40, widget=building_input()
    )
    contact_name = forms.CharField(label=_("Contact"), required=False, max_length=50)
    contact_phone = forms.CharField(
        label=_("Contact phone"), required=False, max_length=20, help_text=_("Blank keeps the stored one.")
    )
    risk_tags = forms.MultipleChoiceField(label=_("Risk tags"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place_type"].choices = [(t.code, t.name) for t in PlaceType.objects.filter(is_active=True)]
        self.fields["risk_tags"].choices = tag_choices(TagKind.PLACE)


class TenantForm(forms.Form):
    """A landlord declares a tenant of one of their rooms."""

    room = forms.ChoiceField(label=_("Room"))
    name = forms.CharField(label=_("Name"), max_length=60)
    person_type = forms.ChoiceField(label=_("Person type"), choices=PersonType.choices, initial=PersonType.FLOATING)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=20)
    passport = forms.CharField(label=_("Passport number"), required=False, max_length=20)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)
    moved_in = forms.DateField(label=_("Moved in"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, rooms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [(str(r.pk), f"{r.unit}-{r.number}" if r.unit else r.number) for r in rooms]
