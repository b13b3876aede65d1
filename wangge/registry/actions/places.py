"""Places (businesses, venues): their registration."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import queries
from ..models import (
    LicenceStatus,
    Place,
    PlaceType,
    TagKind,
)
from ..validators import validate_credit_code
from .common import (
    _bump,
    _check_editor,
    _check_version,
    _date,
    _phone,
    _record,
    _save_unique,
    _tags,
    _text,
    _visible_address,
    _visible_by_code,
)


@transaction.atomic
def save_place(user, data: dict, *, place: Place | None = None, version=None) -> Place:
    _check_editor(user)
    if place is not None:
        _check_version(place, version)
    errors = {}
    name = _text(data, "name", errors, required=True, max_length=100)
    place_type = PlaceType.objects.filter(code=str(data.get("place_type") or ""), is_active=True).first()
    if place_type is None:
        errors["place_type"] = _("Choose the type of place.")
    credit_code = None
    if str(data.get("credit_code") or "").strip():
        try:
            credit_code = validate_credit_code(str(data["credit_code"]))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    licence_status = str(data.get("licence_status") or LicenceStatus.NONE)
    if licence_status not in LicenceStatus.values:
        errors["licence_status"] = _("Unknown licence status %(s)s.") % {"s": licence_status}
    licence_expires = _date(data, "licence_expires", errors)
    address = _visible_address(user, data.get("address"), errors)
    building = None
    if data.get("building"):
        value = data["building"]
        building = _visible_by_code(queries.buildings(user), value, "building", errors,
                                    _("No building %(b)s in your jurisdiction.") % {"b": value})  # fmt: skip
    contact_name = _text(data, "contact_name", errors, max_length=50)
    phone = _phone(data, "contact_phone", errors) if "contact_phone" in data else None
    risk_tags = _tags(data.get("risk_tags"), TagKind.PLACE, errors, "risk_tags") if "risk_tags" in data else None
    if credit_code and Place.objects.filter(credit_code=credit_code).exclude(pk=getattr(place, "pk", None)).exists():
        errors["credit_code"] = _("Another place is registered with this credit code.")
    if errors:
        raise ValidationError(errors)
    before = None
    if place is None:
        place = Place()
    else:
        before = place.history_snapshot()
        _bump(place, version)
    place.name, place.place_type, place.credit_code = name, place_type, credit_code
    place.licence_status, place.licence_expires = licence_status, licence_expires
    place.address, place.building, place.contact_name = address, building, contact_name
    if phone is not None:
        place.contact_phone_encrypted, place.contact_phone_hash, place.contact_phone_masked = phone
    place.area, place.area_path = address.area, address.area_path
    place.updated_at = timezone.now()
    _save_unique(place, "credit_code", _("Another place is registered with this credit code."))
    if risk_tags is not None:
        place.risk_tags.set(risk_tags)
    _record(place, before, user)
    return place
