"""People and their residences (tenancies): register, update, move in, move out."""

import functools
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.areas.models import Area
from wangge.core import pii
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction
from wangge.privacy import search

from .. import queries
from ..models import (
    Person,
    PersonType,
    Room,
    TagKind,
    Tenancy,
    TenancySource,
)
from ..validators import name_key, parse_id_number
from .common import (
    DuplicatePerson,
    _bump,
    _check_editor,
    _check_version,
    _date,
    _in_scope,
    _phone,
    _record,
    _sealed,
    _tags,
    _text,
    _visible_room,
    mask_passport,
)


def _identity(data: dict, person_type: str, errors: dict, person: Person | None):
    """Validated identity fields: {encrypted, hash, masked, birth_date, sex} for the ID or passport."""
    out = {}
    id_raw = str(data.get("id_number") or "").strip()
    passport_raw = str(data.get("passport") or "").strip().upper()
    if id_raw:
        try:
            parsed = parse_id_number(id_raw)
            out["id"] = _sealed(parsed.number, pii.mask_id_number)
            out["birth_date"], out["sex"] = parsed.birth_date, parsed.sex
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if passport_raw:
        if person_type != PersonType.OVERSEAS:
            errors["passport"] = _("Only overseas people are registered by passport.")
        elif not (5 <= len(passport_raw) <= 20 and passport_raw.isalnum()):
            errors["passport"] = _("A passport number has 5 to 20 letters and digits.")
        else:
            out["passport"] = _sealed(passport_raw, mask_passport)
    if not id_raw and not passport_raw:
        if person is not None and (person.id_number_hash or person.passport_hash):
            pass  # unchanged identity: the form leaves the number blank rather than show it
        elif person_type == PersonType.OVERSEAS:
            errors["passport"] = _("Give the passport number (or an ID number).")
        else:
            errors["id_number"] = _("This field is required.")
    return out


def _check_duplicate(user, identity: dict, person: Person | None, budgeted: bool = True) -> None:
    columns = (("id", "id_number", "id_number_hash"), ("passport", "passport", "passport_hash"))
    stored = {}
    if person is not None:  # a number the person has already is no test (and costs no budget)
        stored = Person.objects.filter(pk=person.pk).values("id_number_hash", "passport_hash").first() or {}
    changed = [(key, field, column) for key, field, column in columns
               if key in identity and identity[key][1] != stored.get(column)]  # fmt: skip
    if budgeted and changed:
        search.check_write_budget(user)  # spent: refused whether the number is registered or not
    for key, field, column in changed:
        others = Person.objects.filter(**{column: identity[key][1]})
        if person is not None:
            others = others.exclude(pk=person.pk)
        existing = others.first()
        if existing is not None:
            visible = queries.people(user).filter(pk=existing.pk).first()
            if visible is None:  # an existence test out of the user's reach: budgeted and logged
                search.duplicate_found(user, existing, field, identity[key][1])
            raise DuplicatePerson(field, visible)


def _logs_duplicate_checks(action):
    """The action's duplicate checks are logged after its transaction ends (it rolls back on one)."""

    @functools.wraps(action)
    def wrapper(*args, **kwargs):
        with search.deferred_access_log():
            return action(*args, **kwargs)

    return wrapper


@_logs_duplicate_checks
@transaction.atomic
def register_person(user, data: dict, *, budgeted: bool = True) -> Person:
    """A new person; with data["room"] their residence starts at once (a tenancy from data["moved_in"]).
    budgeted=False: an import, which checked the numbers against its own budget already."""
    _check_editor(user)
    errors = {}
    person = Person(created_by=user if user.is_authenticated else None)
    _fill_person(user, person, data, errors)
    room = _visible_room(user, data.get("room"), errors)
    area = None
    if room is not None:
        area = room.building.area
    elif data.get("area_code"):
        area = Area.objects.filter(code=str(data["area_code"])).first()
        if area is None or not _in_scope(user, area):
            errors["area_code"] = _("Unknown area %(a)s.") % {"a": data["area_code"]}
    else:
        errors["room"] = _("Choose the room they live in (or the area, for someone without a registered residence).")
    moved_in = _date(data, "moved_in", errors) or timezone.localdate()
    source = str(data.get("source") or TenancySource.GRID_MANAGER)
    if source not in TenancySource.values:
        errors["source"] = _("Unknown source %(s)s.") % {"s": source}
    if errors:
        raise ValidationError(errors)
    _check_duplicate(user, person._identity, None, budgeted)
    person.area, person.area_path, person.residence = area, area.path, room
    _save_person(person)
    if person._tags:
        person.tags.set(person._tags)
    _record(person, None, user)
    if room is not None:
        _start_tenancy(user, person, room, moved_in, source, data.get("note", ""))
    return person


def _fill_person(user, person: Person, data: dict, errors: dict) -> None:
    person.name = _text(data, "name", errors, required=True, max_length=60)
    person.name_key = name_key(person.name)
    person_type = str(data.get("person_type") or "")
    if person_type not in PersonType.values:
        errors["person_type"] = _("Choose registered resident, floating population or overseas.")
    person.person_type = person_type
    person.nationality = _text(data, "nationality", errors, max_length=40)
    identity = _identity(data, person_type, errors, person if person.pk else None)
    if "id" in identity:
        person.id_number_encrypted, person.id_number_hash, person.id_number_masked = identity["id"]
        person.birth_date, person.sex = identity["birth_date"], identity["sex"]
    if "passport" in identity:
        person.passport_encrypted, person.passport_hash, person.passport_masked = identity["passport"]
        if "id" not in identity:
            person.birth_date = _date(data, "birth_date", errors)
            sex = str(data.get("sex") or "")
            person.sex = sex if sex in ("M", "F") else ""
    if "phone" in data:
        person.phone_encrypted, person.phone_hash, person.phone_masked = _phone(data, "phone", errors)
    person._identity = identity
    person._tags = _tags(data.get("tags"), TagKind.PERSON, errors, "tags") if "tags" in data else None


def _save_person(person: Person) -> None:
    person.id_number_hash = person.id_number_hash or None
    person.passport_hash = person.passport_hash or None
    person.updated_at = timezone.now()
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise ValidationError({"id_number": _("This number is already registered.")}) from None


@_logs_duplicate_checks
@transaction.atomic
def update_person(user, person: Person, data: dict, *, version=None) -> Person:
    """Name, type, identity, phone, tags. The residence changes only by move_in / move_out."""
    _check_editor(user)
    _check_version(person, version)
    errors = {}
    before = person.history_snapshot()
    _fill_person(user, person, data, errors)
    if errors:
        raise ValidationError(errors)
    _check_duplicate(user, person._identity, person)
    _bump(person, version)
    _save_person(person)
    if person._tags is not None:
        person.tags.set(person._tags)
    _record(person, before, user)
    return person


def _start_tenancy(user, person: Person, room: Room, moved_in: date, source: str, note: str = "") -> Tenancy:
    tenancy = Tenancy.objects.create(
        person=person,
        room=room,
        moved_in=moved_in,
        source=source,
        note=str(note or "")[:200],
        area_path=room.area_path,
        created_by=user if user.is_authenticated else None,
    )
    record_change(tenancy, ChangeAction.CREATE, acting_user=user, after=tenancy.history_snapshot(), related=person)
    if not room.is_occupied:
        Room.objects.filter(pk=room.pk).update(is_occupied=True)
        room.is_occupied = True
    return tenancy


def _end_tenancy(user, tenancy: Tenancy, moved_out: date) -> None:
    before = tenancy.history_snapshot()
    tenancy.moved_out = moved_out
    tenancy.save(update_fields=["moved_out"])
    record_change(
        tenancy,
        ChangeAction.UPDATE,
        acting_user=user,
        before=before,
        after=tenancy.history_snapshot(),
        related=tenancy.person,
    )


@transaction.atomic
def move_in(
    user, person: Person, room: Room, *, moved_in=None, source=TenancySource.GRID_MANAGER, note="", version=None
):  # noqa: E501
    """Register a new residence: the current one (if any) ends the same day, in the same transaction."""
    _check_editor(user)
    _check_version(person, version)
    errors = {}
    day = _date({"moved_in": moved_in}, "moved_in", errors) or timezone.localdate()
    if source not in TenancySource.values:
        errors["source"] = _("Unknown source %(s)s.") % {"s": source}
    if not _in_scope(user, room.building.area):
        errors["room"] = _("No room %(r)s in your jurisdiction.") % {"r": room.pk}
    current = person.tenancies.filter(moved_out__isnull=True).select_related("room").first()
    if current is not None and current.room_id == room.pk:
        errors["room"] = _("%(p)s already lives in %(r)s.") % {"p": person.name, "r": room}
    elif current is not None and day < current.moved_in:
        errors["moved_in"] = _("The move-in date is before the current residence began (%(d)s).") % {
            "d": current.moved_in
        }
    if errors:
        raise ValidationError(errors)
    return _relocate(user, person, room, day, source, note, current, version)


def _relocate(user, person, room, day, source, note, current, version=None) -> Tenancy:
    """The move itself, once checked: the current stay ends, the new one starts, the person follows."""
    before = person.history_snapshot()
    _bump(person, version)
    if current is not None:
        _end_tenancy(user, current, day)
    tenancy = _start_tenancy(user, person, room, day, source, note)
    area = room.building.area
    person.residence, person.area, person.area_path = room, area, area.path
    person.updated_at = timezone.now()
    person.save(update_fields=["residence", "area", "area_path", "updated_at", "version"])
    _record(person, before, user)
    return tenancy


@transaction.atomic
def move_out(user, person: Person, *, moved_out=None, version=None) -> Tenancy:
    _check_editor(user)
    _check_version(person, version)
    errors = {}
    day = _date({"moved_out": moved_out}, "moved_out", errors) or timezone.localdate()
    current = person.tenancies.filter(moved_out__isnull=True).first()
    if current is None:
        errors["room"] = _("%(p)s has no current residence.") % {"p": person.name}
    elif day < current.moved_in:
        errors["moved_out"] = _("The move-out date is before the move-in date (%(d)s).") % {"d": current.moved_in}
    if errors:
        raise ValidationError(errors)
    _leave(user, person, current, day, version)
    return current


def _leave(user, person: Person, current: Tenancy, day: date, version=None) -> None:
    """The move-out itself, once checked: the stay ends that day, the person has no residence."""
    before = person.history_snapshot()
    _bump(person, version)
    _end_tenancy(user, current, day)
    person.residence = None  # the person stays in the register of the area where they lived
    person.updated_at = timezone.now()
    person.save(update_fields=["residence", "updated_at", "version"])
    _record(person, before, user)
