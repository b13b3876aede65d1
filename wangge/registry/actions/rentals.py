"""Rental houses: their registration by staff, and the tenants their landlords declare."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role, User
from wangge.accounts.resolve import resolve_many, resolve_one
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction
from wangge.notify.actions import notify

from .. import queries
from ..models import (
    DeclarationStatus,
    Person,
    RentalHouse,
    RentalStatus,
    Room,
    Tenancy,
    TenancySource,
    TenantDeclaration,
)
from .common import (
    _bump,
    _check_editor,
    _check_version,
    _date,
    _phone,
    _record,
    _text,
    _visible_by_code,
)
from .people import _fill_person, _leave, _relocate, _save_person


def landlord_rooms(rental: RentalHouse) -> list[Room]:
    """The rooms a rental covers: those chosen, or every room of the building."""
    chosen = list(rental.rooms.all())
    return chosen or list(Room.objects.filter(building_id=rental.building_id))


def _landlord_room_ids(user) -> set[int]:
    """Every room of the landlord's active rental houses: the people living there are the landlord's
    own tenants (their page lists them), anyone else is out of the landlord's reach."""
    room_ids: set[int] = set()
    for rental in queries.landlord_rentals(user).filter(status=RentalStatus.ACTIVE):
        room_ids.update(r.pk for r in landlord_rooms(rental))
    return room_ids


@transaction.atomic
def declare_tenant(user, rental: RentalHouse, data: dict) -> Tenancy | TenantDeclaration:
    """A landlord declares who lives in a room of their own rental house (tenancy source: landlord).

    Only the rental's landlord account may (anyone else: PermissionDenied, shown as 404); the room is
    resolved among the rental's own rooms. One of the landlord's own tenants (living in a room of
    their rental houses) moves from room to room (a Tenancy). Anyone else waits for the grid staff
    of the rental's area to verify the declaration (a pending TenantDeclaration; review_declaration):
    someone registered elsewhere is not moved and not shown, someone new is registered without a
    residence until then. Both answers are the same, so that a landlord cannot test whether a number
    is registered in the city; the landlord sees only what they typed."""
    if not (user.is_authenticated and rental.landlord_user_id == user.pk and rental.status == RentalStatus.ACTIVE):
        raise PermissionDenied(_("Only the landlord of this rental house may declare its tenants."))
    errors = {}
    rooms = landlord_rooms(rental)
    room = None
    try:
        room = resolve_one(Room.objects.filter(pk__in=[r.pk for r in rooms]), data.get("room"), "room",
                           message=_("Choose a room of this rental house."))  # fmt: skip
    except ValidationError as exc:
        errors.update(exc.message_dict)
    person = Person(created_by=user)
    _fill_person(user, person, data, errors)
    day = _date(data, "moved_in", errors) or timezone.localdate()
    note = _text(data, "note", errors, max_length=200)
    if errors:
        raise ValidationError(errors)
    identity = person._identity
    existing = None
    for key, column in (("id", "id_number_hash"), ("passport", "passport_hash")):
        if key in identity:
            existing = existing or Person.objects.filter(**{column: identity[key][1]}).first()
    if existing is None:  # registered now, moving in once the grid staff confirm (as for anyone else)
        area = room.building.area
        person.area, person.area_path = area, area.path
        _save_person(person)
        _record(person, None, user)
        return _pending_declaration(user, rental, room, person, person.name, day, note, new=True)
    current = existing.tenancies.filter(moved_out__isnull=True).first()
    if current is None or current.room_id not in _landlord_room_ids(user):
        return _pending_declaration(user, rental, room, existing, person.name, day, note)
    if current.room_id == room.pk:
        raise ValidationError({"room": _("%(p)s already lives in %(r)s.") % {"p": existing.name, "r": room}})
    if day < current.moved_in:
        raise ValidationError({"moved_in": _("The move-in date is before the current residence began (%(d)s).")
                               % {"d": current.moved_in}})  # fmt: skip
    return _relocate(user, existing, room, day, TenancySource.LANDLORD, note, current)


@transaction.atomic
def record_move_out(user, rental: RentalHouse, data: dict) -> Tenancy:
    """A landlord records that a tenant of their own rental house moved out (no staff confirmation).

    Unlike a declaration (which moves a person, maybe registered elsewhere, into the house and so
    waits for the grid staff), a move-out only ends a stay in the landlord's own house of a tenant the
    landlord already sees: it moves nobody anywhere and tells nothing new. Waiting would keep people
    counted in houses they left. So it is direct, recorded (the landlord as the actor) and the grid
    staff are told; a wrong one is undone by the staff registering the person again.
    Only the rental's landlord (anyone else: PermissionDenied, shown as 404); the tenancy is resolved
    among the current tenancies of the rental's rooms (anyone else's: a field error)."""
    if not (user.is_authenticated and rental.landlord_user_id == user.pk and rental.status == RentalStatus.ACTIVE):
        raise PermissionDenied(_("Only the landlord of this rental house may record its tenants' move-outs."))
    errors = {}
    current = Tenancy.objects.filter(room__in=[r.pk for r in landlord_rooms(rental)], moved_out__isnull=True)
    tenancy = None
    try:
        tenancy = resolve_one(current.select_related("person", "room__building"), data.get("tenancy"), "tenancy",
                              message=_("Choose a current tenant of this rental house."))  # fmt: skip
    except ValidationError as exc:
        errors.update(exc.message_dict)
    day = _date(data, "moved_out", errors) or timezone.localdate()
    if day > timezone.localdate():
        errors["moved_out"] = _("The move-out date cannot be in the future.")
    elif tenancy is not None and day < tenancy.moved_in:
        errors["moved_out"] = _("The move-out date is before the move-in date (%(d)s).") % {"d": tenancy.moved_in}
    if errors:
        raise ValidationError(errors)
    person, room = tenancy.person, tenancy.room
    _leave(user, person, tenancy, day)
    if not Tenancy.objects.filter(room=room, moved_out__isnull=True).exists():
        # Empty now: the room no longer counts as an occupied room without declared tenants.
        before = room.history_snapshot()
        Room.objects.filter(pk=room.pk).update(is_occupied=False, version=F("version") + 1)
        room.is_occupied = False
        _record(room, before, user, related=room.building)
    body = _("%(name)s, room %(room)s of %(building)s, moved out on %(day)s.") % {
        "name": person.name, "room": room.number, "building": room.building.name, "day": day.isoformat(),
    }  # fmt: skip
    url = reverse("registry:rental_detail", args=[rental.pk])
    for verifier in _verifiers(room.area_path):
        notify(verifier, _("A landlord recorded a tenant's move-out"), body, url=url,
               dedupe_key=f"tenancy:{tenancy.pk}:moved_out")  # fmt: skip
    return tenancy


def _pending_declaration(user, rental, room, person, declared_name, day, note, new=False) -> TenantDeclaration:
    """The declaration of someone new or registered elsewhere, for the grid staff to verify (once per
    person and room while it waits); the staff who verify the room's area are told."""
    waiting = TenantDeclaration.objects.filter(person=person, room=room, status=DeclarationStatus.PENDING).first()
    if waiting is not None:
        return waiting
    declaration = TenantDeclaration.objects.create(
        rental=rental, room=room, person=person, declared_name=declared_name, moved_in=day, note=note,
        area_path=room.area_path, declared_by=user,
    )  # fmt: skip
    record_change(declaration, ChangeAction.CREATE, acting_user=user, after=declaration.history_snapshot(),
                  related=rental)  # fmt: skip
    url = reverse("registry:rental_detail", args=[rental.pk])
    if new:
        subject = _("A landlord declared a new tenant: verify it")
    else:
        subject = _("A landlord declared a tenant registered elsewhere: verify it")
    body = _("%(name)s, room %(room)s of %(building)s, from %(day)s.") % {
        "name": declared_name,
        "room": room.number,
        "building": room.building.name,
        "day": day.isoformat(),
    }
    for verifier in _verifiers(room.area_path):
        notify(verifier, subject, body, url=url, dedupe_key=f"declaration:{declaration.pk}")
    return declaration


def _verifiers(area_path: str):
    """Who verifies a declaration in this area: its grid managers, else the dispatchers closest above."""
    prefixes = [area_path[: i + 1] for i, c in enumerate(area_path) if c == "/"]
    for roles in ((Role.GRID_MANAGER,), (Role.VILLAGE_DISPATCHER,), (Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER)):
        found = list(
            User.objects.filter(
                is_active=True, memberships__role__in=roles, memberships__area__path__in=prefixes
            ).distinct()
        )
        if found:
            return found
    return []


def _forget_unconfirmed_person(user, declaration: TenantDeclaration) -> None:
    """A person the landlord's declaration alone put in the register (new, never housed, no other
    declaration) leaves it when the declaration is rejected: the register holds verified people only."""
    person = declaration.person
    if person is None or person.created_by_id != declaration.declared_by_id or person.tenancies.exists():
        return
    others = TenantDeclaration.objects.filter(person=person).exclude(pk=declaration.pk)
    if others.exclude(status=DeclarationStatus.REJECTED).exists():
        return
    record_change(person, ChangeAction.DELETE, acting_user=user, before={"name": person.name, "source": "landlord"},
                  related=declaration.rental)  # fmt: skip
    declaration.person = None
    declaration.save(update_fields=["person"])
    person.delete()


@transaction.atomic
def review_declaration(user, declaration: TenantDeclaration, decision: str, note: str = "") -> TenantDeclaration:
    """The grid staff's answer to a pending declaration (the caller resolved it among the user's
    declarations: queries.declarations). confirm: the person moves into the room (their stay
    elsewhere ends that day); reject: nothing moves. The landlord is told either way."""
    _check_editor(user)
    if decision not in ("confirm", "reject"):
        raise ValidationError({"decision": _("Confirm or reject.")})
    declaration = (
        TenantDeclaration.objects.select_for_update(of=("self",))
        .select_related("person", "room__building")
        .get(pk=declaration.pk)
    )
    if declaration.status != DeclarationStatus.PENDING:
        raise ValidationError({"decision": _("This declaration has been answered already.")})
    before = declaration.history_snapshot()
    if decision == "confirm":
        person, room, day = declaration.person, declaration.room, declaration.moved_in
        current = person.tenancies.filter(moved_out__isnull=True).first()
        if current is not None and current.room_id == room.pk:
            raise ValidationError({"decision": _("%(p)s already lives in %(r)s.") % {"p": person.name, "r": room}})
        if current is not None and day < current.moved_in:
            raise ValidationError({"decision": _("The move-in date is before the current residence began (%(d)s).")
                                   % {"d": current.moved_in}})  # fmt: skip
        declaration.tenancy = _relocate(user, person, room, day, TenancySource.LANDLORD, declaration.note, current)
        declaration.status = DeclarationStatus.CONFIRMED
    else:
        declaration.status = DeclarationStatus.REJECTED
        _forget_unconfirmed_person(user, declaration)
    declaration.reviewed_by, declaration.reviewed_at = user, timezone.now()
    declaration.save(update_fields=["status", "reviewed_by", "reviewed_at", "tenancy", "person"])
    record_change(declaration, ChangeAction.UPDATE, acting_user=user, before=before,
                  after={**declaration.history_snapshot(), "note": str(note or "")[:200]},
                  related=declaration.rental)  # fmt: skip
    landlord = declaration.rental.landlord_user
    if landlord is not None:
        if declaration.status == DeclarationStatus.CONFIRMED:
            subject = _("Your tenant declaration was confirmed")
        else:
            subject = _("Your tenant declaration was rejected")
        text = _("%(name)s, room %(room)s.") % {"name": declaration.declared_name, "room": declaration.room.number}
        notify(landlord, subject, f"{text} {note}".strip(),
               url=reverse("registry:my_rental", args=[declaration.rental_id]),
               dedupe_key=f"declaration:{declaration.pk}:{declaration.status}")  # fmt: skip
    return declaration


@transaction.atomic
def save_rental(user, data: dict, *, rental: RentalHouse | None = None, version=None) -> RentalHouse:
    _check_editor(user)
    if rental is not None:
        _check_version(rental, version)
    errors = {}
    building = rental.building if rental is not None else None
    if building is None:
        value = data.get("building")
        building = _visible_by_code(queries.buildings(user), value, "building", errors,
                                    _("No building %(b)s in your jurisdiction.") % {"b": value or "—"})  # fmt: skip
    rooms = []
    if building is not None and data.get("rooms"):
        try:  # the rooms of this building only
            rooms = resolve_many(Room.objects.filter(building=building), data["rooms"], "rooms",
                                 message=_("Choose rooms of this building."))  # fmt: skip
        except ValidationError as exc:
            errors.update(exc.message_dict)
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
