"""Rental houses: their registration by staff, and the tenants their landlords declare."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role, User

from .. import queries
from ..models import (
    Person,
    RentalHouse,
    RentalStatus,
    Room,
    Tenancy,
    TenancySource,
)
from .common import (
    _bump,
    _check_editor,
    _check_version,
    _date,
    _phone,
    _record,
    _text,
)
from .people import _fill_person, _relocate, _save_person


def landlord_rooms(rental: RentalHouse) -> list[Room]:
    """The rooms a rental covers: those chosen, or every room of the building."""
    chosen = list(rental.rooms.all())
    return chosen or list(Room.objects.filter(building_id=rental.building_id))


@transaction.atomic
def declare_tenant(user, rental: RentalHouse, data: dict) -> Tenancy:
    """A landlord declares who lives in a room of their own rental house (tenancy source: landlord).

    Only the rental's landlord account may (anyone else: PermissionDenied, shown as 404). A person
    already registered (same ID or passport number) moves in; anyone else is registered first. Their
    current stay elsewhere ends the day they move in."""
    if not (user.is_authenticated and rental.landlord_user_id == user.pk and rental.status == RentalStatus.ACTIVE):
        raise PermissionDenied(_("Only the landlord of this rental house may declare its tenants."))
    errors = {}
    room_id = str(data.get("room") or "")
    room = next((r for r in landlord_rooms(rental) if str(r.pk) == room_id), None)
    if room is None:
        errors["room"] = _("Choose a room of this rental house.")
    person = Person(created_by=user)
    _fill_person(user, person, data, errors)
    day = _date(data, "moved_in", errors) or timezone.localdate()
    if errors:
        raise ValidationError(errors)
    identity = person._identity
    existing = None
    for key, column in (("id", "id_number_hash"), ("passport", "passport_hash")):
        if key in identity:
            existing = existing or Person.objects.filter(**{column: identity[key][1]}).first()
    if existing is None:
        area = room.building.area
        person.area, person.area_path = area, area.path
        _save_person(person)
        _record(person, None, user)
        return _relocate(user, person, room, day, TenancySource.LANDLORD, data.get("note", ""), None)
    current = existing.tenancies.filter(moved_out__isnull=True).first()
    if current is not None and current.room_id == room.pk:
        raise ValidationError({"room": _("%(p)s already lives in %(r)s.") % {"p": existing.name, "r": room}})
    if current is not None and day < current.moved_in:
        raise ValidationError({"moved_in": _("The move-in date is before the current residence began (%(d)s).")
                               % {"d": current.moved_in}})  # fmt: skip
    return _relocate(user, existing, room, day, TenancySource.LANDLORD, data.get("note", ""), current)


@transaction.atomic
def save_rental(user, data: dict, *, rental: RentalHouse | None = None, version=None) -> RentalHouse:
    _check_editor(user)
    if rental is not None:
        _check_version(rental, version)
    errors = {}
    building = rental.building if rental is not None else None
    if building is None:
        value = data.get("building")
        building = queries.buildings(user).filter(code=str(value or "")).first()
        if building is None and str(value or "").isdigit():
            building = queries.buildings(user).filter(pk=int(value)).first()
        if building is None:
            errors["building"] = _("No building %(b)s in your jurisdiction.") % {"b": value or "—"}
    rooms = []
    room_ids = [int(r) for r in (data.get("rooms") or []) if str(r).isdigit()]
    if building is not None and room_ids:
        rooms = list(Room.objects.filter(building=building, pk__in=room_ids))
        if len(rooms) != len(set(room_ids)):
            errors["rooms"] = _("Choose rooms of this building.")
    status = str(data.get("status") or RentalStatus.ACTIVE)
    if status not in RentalStatus.values:
        errors["status"] = _("Unknown status %(s)s.") % {"s": status}
    landlord_user = None
    if data.get("landlord_user"):
        landlord_user = User.objects.filter(
            username=str(data["landlord_user"]), memberships__role=Role.LANDLORD, is_active=True
        ).first()
        if landlord_user is None:
            errors["landlord_user"] = _("No landlord account %(u)s.") % {"u": data["landlord_user"]}
    landlord_name = _text(data, "landlord_name", errors, max_length=50)
    phone = _phone(data, "landlord_phone", errors) if "landlord_phone" in data else None
    if landlord_user is None and not landlord_name:
        errors["landlord_name"] = _("Name the landlord, or choose a landlord account.")
    registered_on = _date(data, "registered_on", errors) or (rental.registered_on if rental else timezone.localdate())
    note = _text(data, "note", errors, max_length=200)
    if rental is None and building is not None and status == RentalStatus.ACTIVE:
        if RentalHouse.objects.filter(building=building, status=RentalStatus.ACTIVE).exists():
            errors["building"] = _("This building is registered as a rental already; edit that registration.")
    if errors:
        raise ValidationError(errors)
    before = None
    if rental is None:
        rental = RentalHouse(building=building)
    else:
        before = rental.history_snapshot()
        _bump(rental, version)
    rental.status, rental.landlord_user, rental.landlord_name = status, landlord_user, landlord_name
    if not landlord_name and landlord_user is not None:
        rental.landlord_name = str(landlord_user)
    if phone is not None:
        rental.landlord_phone_encrypted, rental.landlord_phone_hash, rental.landlord_phone_masked = phone
    rental.registered_on, rental.note = registered_on, note
    rental.area, rental.area_path = building.area, building.area_path
    rental.updated_at = timezone.now()
    rental.save()
    rental.rooms.set(rooms)
    _record(rental, before, user, related=building)
    return rental
