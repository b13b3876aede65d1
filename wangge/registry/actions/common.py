"""What every register action shares: the editor check, versions, field parsing, sealed personal data,
change records, and the lookups of ids through the user's jurisdiction."""

import secrets
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from wangge.accounts.models import Role
from wangge.accounts.resolve import resolve_one
from wangge.accounts.scope import scope_for
from wangge.areas.models import Area
from wangge.core import pii
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction

from .. import queries
from ..models import (
    Building,
    Person,
    RentalHouse,
    Room,
    Tag,
    Tenancy,
)

EDITOR_ROLES = {Role.GRID_MANAGER, Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER, Role.ADMIN}
QR_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class StaleVersion(Exception):
    """Somebody changed the record since the user loaded it (HTTP 409)."""

    def __init__(self, current_version):
        self.current_version = current_version
        super().__init__(
            _("Someone else changed this record in the meantime (now version %(v)s). Reload it and try again.")
            % {"v": current_version}
        )


class DuplicatePerson(ValidationError):
    """The ID (or passport) number is registered already. existing: the record if the user may see it."""

    def __init__(self, field: str, existing: Person | None):
        self.existing = existing
        if existing is not None:
            message = _("This number is already registered: %(name)s.") % {"name": existing.name}
        else:
            message = _("This number is already registered in another jurisdiction.")
        super().__init__({field: message})


def may_edit(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.roles & EDITOR_ROLES))


def _check_editor(user):
    if not may_edit(user):
        raise PermissionDenied(_("Your role may look at the registers but not change them."))


def _in_scope(user, area: Area) -> bool:
    scope = scope_for(user)
    return scope.everything or any(area.path.startswith(p) for p in scope.area_paths)


def _check_version(obj, version: int | None) -> None:
    """Refuse at once when the record moved on since the user loaded it (before other checks)."""
    if version is not None:
        current = type(obj).objects.filter(pk=obj.pk).values_list("version", flat=True).first()
        if current != version:
            raise StaleVersion(current)


def _bump(obj, version: int | None) -> None:
    """Claim the row for this change: version must be what the user saw (None: take the current)."""
    version = obj.version if version is None else version
    model = type(obj)
    if not model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + 1):
        current = model.objects.filter(pk=obj.pk).values_list("version", flat=True).first()
        raise StaleVersion(current)
    obj.version = version + 1


def _text(data: dict, key: str, errors: dict, *, required=False, max_length=None, label=None) -> str:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        errors[key] = _("This field is required.")
    elif max_length and len(value) > max_length:
        errors[key] = _("At most %(n)s characters.") % {"n": max_length}
    return value


def _phone(data: dict, key: str, errors: dict) -> tuple[str, str, str]:
    """(encrypted, hash, masked) of a phone field; empty strings when it is blank."""
    raw = str(data.get(key) or "").strip()
    if not raw:
        return "", "", ""
    phone = pii.normalize_phone(raw)
    if not pii.is_valid_phone(phone):
        errors[key] = _("Not a valid phone number (a mobile of 11 digits, or a landline with its area code).")
        return "", "", ""
    return _sealed(phone, pii.mask_phone)


def mask_passport(value: str) -> str:
    """E1****678: two first and three last characters kept."""
    return value[:2] + "*" * (len(value) - 5) + value[-3:] if len(value) >= 7 else "*" * len(value)


def _sealed(value: str, mask) -> tuple[str, str, str]:
    """(encrypted, keyed lookup hash, masked): how a personal-data value is stored."""
    return pii.encrypt(value), pii.lookup_hash(value), mask(value)


def _date(data: dict, key: str, errors: dict, *, required=False) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            errors[key] = _("This field is required.")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[key] = _("Not a date (YYYY-MM-DD).")
        return None


def _new_code(model, prefix: str) -> str:
    """prefix + a running number; unique, checked again by the column's unique constraint."""
    taken = model.objects.filter(code__startswith=prefix).count()
    for n in range(taken + 1, taken + 1000):
        code = f"{prefix}{n:05d}"
        if not model.objects.filter(code=code).exists():
            return code
    return f"{prefix}{secrets.token_hex(4)}"


def _save_unique(obj, field: str, message: str):
    """Save, turning a unique-constraint race into a field error."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError({field: message}) from None


def _record(obj, before, acting_user, related=None):
    action = ChangeAction.CREATE if before is None else ChangeAction.UPDATE
    record_change(obj, action, acting_user=acting_user, before=before, after=obj.history_snapshot(), related=related)


def _tags(codes, kind: str, errors: dict, field: str) -> list[Tag]:
    codes = [c for c in (codes or []) if c]
    tags = list(Tag.objects.filter(code__in=codes, kind=kind, is_active=True))
    unknown = sorted(set(codes) - {t.code for t in tags})
    if unknown:
        errors[field] = _("Unknown tag: %(t)s.") % {"t": ", ".join(unknown)}
    return tags


def _move_building_area(building: Building, area: Area) -> None:
    Building.objects.filter(pk=building.pk).update(area=area, area_path=area.path)
    Room.objects.filter(building=building).update(area_path=area.path)
    Tenancy.objects.filter(room__building=building).update(area_path=area.path)
    Person.objects.filter(residence__building=building).update(area=area, area_path=area.path)
    RentalHouse.objects.filter(building=building).update(area=area, area_path=area.path)


def _visible_by_code(queryset, value, field: str, errors: dict, message: str):
    """The row of the queryset (already narrowed to the user's jurisdiction) with this code, or with
    this id (accounts.resolve); None and a field error otherwise, the same for "elsewhere" as for
    "unknown"."""
    value = str(value or "").strip()
    found = queryset.filter(code=value).first() if value else None
    if found is None and value.isdigit():
        try:
            found = resolve_one(queryset, value, field, message=message)
        except ValidationError:
            found = None
    if found is None:
        errors[field] = message
    return found


def _visible_address(user, value, errors, field="address"):
    if value in (None, ""):
        errors[field] = _("Choose the standard address.")
        return None
    message = _("No standard address %(a)s in your jurisdiction.") % {"a": value}
    return _visible_by_code(queries.addresses(user), value, field, errors, message)


def _visible_room(user, value, errors, field="room"):
    if value in (None, ""):
        return None
    try:
        return resolve_one(queries.rooms(user), value, field,
                           message=_("No room %(r)s in your jurisdiction.") % {"r": value})  # fmt: skip
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None
