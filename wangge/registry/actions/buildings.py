"""Buildings and their rooms."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    Building,
    BuildingUse,
    RiskClass,
    Room,
)
from .common import (
    QR_ALPHABET,
    _bump,
    _check_editor,
    _check_version,
    _move_building_area,
    _new_code,
    _phone,
    _record,
    _save_unique,
    _text,
    _visible_address,
)


@transaction.atomic
def save_building(user, data: dict, *, building: Building | None = None, version=None) -> Building:
    _check_editor(user)
    if building is not None:
        _check_version(building, version)
    errors = {}
    name = _text(data, "name", errors, required=True, max_length=100)
    code = _text(data, "code", errors, max_length=40)
    address = _visible_address(user, data.get("address"), errors)
    use = BuildingUse.objects.filter(code=str(data.get("use") or ""), is_active=True).first()
    if use is None:
        errors["use"] = _("Choose the use of the building.")
    try:
        floors = int(data.get("floors"))
        if not 1 <= floors <= 200:
            raise ValueError
    except (TypeError, ValueError):
        errors["floors"] = _("Floors: a whole number from 1 to 200.")
        floors = None
    try:
        risk_class = int(data.get("risk_class") or RiskClass.LOW)
        if risk_class not in RiskClass.values:
            raise ValueError
    except (TypeError, ValueError):
        errors["risk_class"] = _("Risk class is 1, 2 or 3.")
        risk_class = None
    contact_name = _text(data, "contact_name", errors, max_length=50)
    phone = _phone(data, "contact_phone", errors) if "contact_phone" in data else None
    if code and Building.objects.filter(code=code).exclude(pk=getattr(building, "pk", None)).exists():
        errors["code"] = _("Another building has the code %(c)s.") % {"c": code}
    if errors:
        raise ValidationError(errors)
    before = None
    if building is None:
        building = Building(
            code=code or _new_code(Building, f"{address.area.code}B"),
            qr_token="".join(secrets.choice(QR_ALPHABET) for _ in range(16)),
        )
    else:
        before = building.history_snapshot()
        _bump(building, version)
        building.code = code or building.code
    building.name, building.address, building.use = name, address, use
    building.floors, building.risk_class, building.contact_name = floors, risk_class, contact_name
    if phone is not None:
        building.contact_phone_encrypted, building.contact_phone_hash, building.contact_phone_masked = phone
    building.lat, building.lng = address.lat, address.lng
    area_changed = building.area_id is not None and building.area_id != address.area_id
    building.area, building.area_path = address.area, address.area_path
    building.updated_at = timezone.now()
    _save_unique(building, "code", _("Another building has this code."))
    if area_changed:
        _move_building_area(building, address.area)
    _record(building, before, user)
    return building


@transaction.atomic
def save_room(user, building: Building, data: dict, *, room: Room | None = None, version=None) -> Room:
    _check_editor(user)
    if room is not None:
        _check_version(room, version)
    errors = {}
    number = _text(data, "number", errors, required=True, max_length=20)
    unit = _text(data, "unit", errors, max_length=20)
    floor = data.get("floor")
    try:
        floor = int(floor) if floor not in (None, "") else None
        if floor is not None and not -5 <= floor <= building.floors:
            errors["floor"] = _("The building has %(n)s floors.") % {"n": building.floors}
    except (TypeError, ValueError):
        errors["floor"] = _("Floor: a whole number.")
        floor = None
    size = data.get("size_sqm")
    try:
        size = float(size) if size not in (None, "") else None
        if size is not None and not 0 < size < 100_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["size_sqm"] = _("Floor area: a positive number of square metres.")
        size = None
    others = Room.objects.filter(building=building, unit=unit, number=number).exclude(pk=getattr(room, "pk", None))
    if number and others.exists():
        errors["number"] = _("The building already has room %(n)s.") % {"n": f"{unit}-{number}" if unit else number}
    if errors:
        raise ValidationError(errors)
    before = None
    if room is None:
        room = Room(building=building)
    else:
        before = room.history_snapshot()
        _bump(room, version)
    room.unit, room.number, room.floor, room.size_sqm = unit, number, floor, size
    if "is_occupied" in data:
        room.is_occupied = bool(data["is_occupied"])
    room.area_path = building.area_path
    _save_unique(room, "number", _("The building already has this room."))
    _record(room, before, user, related=building)
    return room
