"""The registers in the JSON API (/api/v1/registry/…): lists with search, detail, create, update
(PUT with the version you saw: 409 when stale), and what the mobile app needs: register a resident
in a room, move people, look up a building by its door plate. Personal data is always masked here;
POST /api/v1/privacy/reveal shows one value in full (logged)."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wangge.accounts.resolve import resolve_one
from wangge.core.apitypes import Id, errors
from wangge.core.clientip import client_ip
from wangge.privacy import shown
from wangge.privacy.search import BudgetExhausted

from . import actions, compliance, exact, queries
from .models import Building, Person, Place, RentalHouse, Room, StandardAddress, TenancySource


class Mapped:
    """A queryset seen through fn, for @paginate: the page's rows only are loaded and mapped (a list
    of a million people is never read whole); its length is the database's count."""

    def __init__(self, qs, fn, *, page_fn=None):
        # page_fn(rows) → outputs: for rows whose output needs reads best done once per page
        self.qs, self.fn = qs, fn
        self.page_fn = page_fn or (lambda rows: [fn(obj) for obj in rows])

    def __len__(self):
        return self.qs.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.page_fn(list(self.qs[index]))
        return self.fn(self.qs[index])


router = Router(tags=["registry"])


# --- schemas --------------------------------------------------------------------------------


class AddressIn(Schema):
    code: str = ""
    town: str = ""
    community: str = ""
    road: str = ""
    number: str = ""
    building_no: str = ""
    unit: str = ""
    room: str = ""
    full_text: str = ""
    lat: float
    lng: float
    version: int | None = None


class AddressOut(Schema):
    id: int
    code: str
    town: str
    community: str
    road: str
    number: str
    building_no: str
    unit: str
    room: str
    full_text: str
    lat: float
    lng: float
    area_code: str
    version: int
    distance_m: float | None = None


def address_out(a: StandardAddress, distance=None) -> dict:
    return {**{f: getattr(a, f) for f in AddressOut.model_fields if hasattr(a, f)}, "area_code": a.area.code,
            "distance_m": round(distance, 1) if distance is not None else None}  # fmt: skip


class BuildingIn(Schema):
    code: str = ""
    name: str
    address: str  # standard address code
    use: str
    floors: int
    risk_class: int = 1
    contact_name: str = ""
    contact_phone: str | None = None  # omitted: unchanged
    version: int | None = None


class RoomIn(Schema):
    unit: str = ""
    number: str
    floor: int | None = None
    size_sqm: float | None = None
    is_occupied: bool = False
    version: int | None = None  # editing: the version you saw (409 when stale)


class ResidentOut(Schema):
    id: int
    name: str
    id_number: str  # masked


class RoomOut(Schema):
    id: int
    unit: str
    number: str
    floor: int | None
    is_occupied: bool
    version: int
    residents: list[ResidentOut] = []


class BuildingOut(Schema):
    id: int
    code: str
    name: str
    address: str
    address_text: str
    use: str
    floors: int
    risk_class: int
    contact_name: str
    contact_phone: str  # masked
    lat: float
    lng: float
    area_code: str
    qr_token: str
    version: int


class BuildingDetailOut(BuildingOut):
    rooms: list[RoomOut]


def building_out(b: Building) -> dict:
    return {
        "id": b.id, "code": b.code, "name": b.name, "address": b.address.code, "address_text": b.address.full_text,
        "use": b.use.code, "floors": b.floors, "risk_class": b.risk_class, "contact_name": b.contact_name,
        "contact_phone": b.contact_phone_masked, "lat": b.lat, "lng": b.lng, "area_code": b.area.code,
        "qr_token": b.qr_token, "version": b.version,
    }  # fmt: skip


def building_detail(user, b: Building) -> dict:
    residents = {}
    for t in queries.tenancies(user).filter(room__building=b, moved_out__isnull=True):
        residents.setdefault(t.room_id, []).append(
            {
                "id": t.person.id,
                "name": t.person.name,
                "id_number": t.person.id_number_masked or t.person.passport_masked,
            }
        )
    rooms = [
        {"id": r.id, "unit": r.unit, "number": r.number, "floor": r.floor, "is_occupied": r.is_occupied,
         "version": r.version, "residents": residents.get(r.id, [])}
        for r in b.rooms.all()
    ]  # fmt: skip
    return {**building_out(b), "rooms": rooms}


class PersonIn(Schema):
    name: str
    person_type: str
    id_number: str | None = None
    passport: str | None = None
    nationality: str = ""
    phone: str | None = None
    tags: list[str] | None = None
    room: Id | None = None  # residence: starts a tenancy
    area_code: str = ""  # when there is no room
    moved_in: date | None = None
    source: str = TenancySource.GRID_MANAGER
    version: int | None = None


class PersonOut(Schema):
    id: int
    name: str
    person_type: str
    id_number: str  # masked
    passport: str  # masked
    nationality: str
    birth_date: date | None  # only with the permission privacy.reveal_personal_data (else null)
    birth_year: int | None
    sex: str
    phone: str  # masked
    tags: list[str]
    residence: int | None
    residence_text: str
    area_code: str
    version: int


def person_out(p: Person, user) -> dict:
    """What this user may see of a person (wangge.privacy.shown: the birth year only without the permission)."""
    return {
        "id": p.id, "name": p.name, "person_type": p.person_type, "id_number": p.id_number_masked,
        "passport": p.passport_masked, "nationality": p.nationality, **shown.birth_fields(user, p.birth_date),
        "sex": p.sex, "phone": p.phone_masked, "tags": [t.code for t in p.tags.all()], "residence": p.residence_id,
        "residence_text": str(p.residence) if p.residence_id else "", "area_code": p.area.code, "version": p.version,
    }  # fmt: skip


class MoveIn(Schema):
    room: Id
    moved_in: date | None = None
    source: str = TenancySource.GRID_MANAGER
    note: str = ""
    version: int


class MoveOut(Schema):
    moved_out: date | None = None
    version: int


class TenancyOut(Schema):
    id: int
    person: int
    room: int
    room_text: str
    moved_in: date
    moved_out: date | None
    source: str


class RentalIn(Schema):
    building: str  # code
    rooms: list[Id] = []
    status: str = "active"
    landlord_user: str = ""
    landlord_name: str = ""
    landlord_phone: str | None = None
    registered_on: date | None = None
    note: str = ""
    version: int | None = None


class CheckOut(Schema):
    key: str
    label: str
    ok: bool
    applies: bool
    missing: list[str]


class RentalOut(Schema):
    id: int
    building: str
    rooms: list[int]
    status: str
    landlord_user: str | None
    landlord_name: str
    landlord_phone: str  # masked
    registered_on: date
    note: str
    area_code: str
    version: int
    compliance_score: int
    missing: list[str]
    checks: list[CheckOut]


def rentals_out(rentals: list[RentalHouse]) -> list[dict]:
    return [rental_out(r, c) for r, c in zip(rentals, compliance.compliance_many(rentals), strict=True)]


def rental_out(r: RentalHouse, c: compliance.Compliance | None = None) -> dict:
    c = c or compliance.compliance(r)
    return {
        "id": r.id, "building": r.building.code, "rooms": [x.id for x in r.rooms.all()], "status": r.status,
        "landlord_user": r.landlord_user.username if r.landlord_user_id else None, "landlord_name": r.landlord_name,
        "landlord_phone": r.landlord_phone_masked, "registered_on": r.registered_on, "note": r.note,
        "area_code": r.area.code, "version": r.version, "compliance_score": c.score, "missing": c.missing,
        "checks": [{"key": k.key, "label": str(k.label), "ok": k.ok, "applies": k.applies, "missing": k.missing}
                   for k in c.checks],
    }  # fmt: skip


class PlaceIn(Schema):
    name: str
    place_type: str
    credit_code: str = ""
    licence_status: str = "none"
    licence_expires: date | None = None
    address: str  # standard address code
    building: str = ""
    contact_name: str = ""
    contact_phone: str | None = None
    risk_tags: list[str] | None = None
    version: int | None = None


class PlaceOut(Schema):
    id: int
    name: str
    place_type: str
    three_small: bool
    credit_code: str | None
    licence_status: str
    licence_expires: date | None
    address: str
    building: str | None
    contact_name: str
    contact_phone: str  # masked
    risk_tags: list[str]
    area_code: str
    version: int
    updated_at: datetime


def place_out(p: Place) -> dict:
    return {
        "id": p.id, "name": p.name, "place_type": p.place_type.code, "three_small": p.place_type.is_three_small,
        "credit_code": p.credit_code, "licence_status": p.licence_status, "licence_expires": p.licence_expires,
        "address": p.address.code, "building": p.building.code if p.building_id else None,
        "contact_name": p.contact_name, "contact_phone": p.contact_phone_masked,
        "risk_tags": [t.code for t in p.risk_tags.all()], "area_code": p.area.code, "version": p.version,
        "updated_at": p.updated_at,
    }  # fmt: skip


def _data(payload: Schema) -> dict:
    """The payload as action input: fields left out (None) of personal data mean "unchanged"."""
    return {k: v for k, v in payload.dict().items() if k != "version" and v is not None}


# --- addresses ------------------------------------------------------------------------------


@router.get("/addresses", response=list[AddressOut])
@paginate
def list_addresses(request, q: str = "", lat: float | None = None, lng: float | None = None, radius: float = 500):
    """Search by any part of the address text (q), or nearest first around a point (lat, lng, radius m)."""
    qs = queries.addresses(request.user)
    if lat is not None and lng is not None:
        found = queries.near(qs, lat, lng, min(radius, 5000))
        return [address_out(a, d) for a, d in found if not q or queries.search_text(q) in a.search_text]
    return Mapped(queries.search_addresses(qs, q), address_out)


@router.get("/addresses/{pk}", response={200: AddressOut, **errors(404)})
def get_address(request, pk: int):
    return address_out(queries.one(queries.addresses(request.user), pk))


@router.post("/addresses", response={201: AddressOut, **errors(400, 403)})
def create_address(request, payload: AddressIn):
    return Status(201, address_out(actions.save_address(request.user, _data(payload))))


@router.put("/addresses/{pk}", response={200: AddressOut, **errors(400, 403, 404, 409)})
def update_address(request, pk: int, payload: AddressIn):
    address = queries.one(queries.addresses(request.user), pk)
    return address_out(actions.save_address(request.user, _data(payload), address=address, version=payload.version))


# --- buildings ------------------------------------------------------------------------------


@router.get("/buildings", response=list[BuildingOut])
@paginate
def list_buildings(request, q: str = "", use: str = "", risk_class: int | None = None):
    qs = queries.search_text_fields(queries.buildings(request.user), q, "code", "name", "address__full_text")
    if use:
        qs = qs.filter(use__code=use)
    if risk_class:
        qs = qs.filter(risk_class=risk_class)
    return Mapped(qs, building_out)


@router.get("/buildings/by-qr/{token}", response={200: BuildingDetailOut, **errors(404)})
def building_by_qr(request, token: str):
    """What the mobile app shows after scanning a door plate (404 outside the user's jurisdiction)."""
    return building_detail(request.user, get_object_or_404(queries.buildings(request.user), qr_token=token))


@router.get("/buildings/{pk}", response={200: BuildingDetailOut, **errors(404)})
def get_building(request, pk: int):
    return building_detail(request.user, queries.one(queries.buildings(request.user), pk))


@router.post("/buildings", response={201: BuildingOut, **errors(400, 403)})
def create_building(request, payload: BuildingIn):
    return Status(201, building_out(actions.save_building(request.user, _data(payload))))


@router.put("/buildings/{pk}", response={200: BuildingOut, **errors(400, 403, 404, 409)})
def update_building(request, pk: int, payload: BuildingIn):
    building = queries.one(queries.buildings(request.user), pk)
    saved = actions.save_building(request.user, _data(payload), building=building, version=payload.version)
    return building_out(saved)


@router.put("/buildings/{pk}/rooms/{room_pk}", response={200: RoomOut, **errors(400, 403, 404, 409)})
def update_room(request, pk: int, room_pk: int, payload: RoomIn):
    """Edit a room (unit, number, floor, size, occupied) with the version you saw: 409 when stale."""
    building = queries.one(queries.buildings(request.user), pk)
    room = queries.one(Room.objects.filter(building=building), room_pk)
    data = payload.dict()
    room = actions.save_room(request.user, building, data, room=room, version=data.pop("version", None))
    return {"id": room.id, "unit": room.unit, "number": room.number, "floor": room.floor,
            "is_occupied": room.is_occupied, "version": room.version}  # fmt: skip


@router.post("/buildings/{pk}/rooms", response={201: RoomOut, **errors(400, 403, 404)})
def add_room(request, pk: int, payload: RoomIn):
    building = queries.one(queries.buildings(request.user), pk)
    room = actions.save_room(request.user, building, payload.dict())
    return Status(201, {"id": room.id, "unit": room.unit, "number": room.number, "floor": room.floor,
                        "is_occupied": room.is_occupied, "version": room.version})  # fmt: skip


# --- people ---------------------------------------------------------------------------------


@router.get("/people", response=list[PersonOut])
@paginate
def list_people(request, q: str = "", type: str = "", tag: str = ""):
    """q: a name or a part of it. A full ID number, passport number or phone is refused (400): search
    those with POST /people/search, which keeps them out of URLs and logs."""
    if queries.exact_value(q) is not None:
        raise ValidationError({"q": _("Search a full ID number, passport number or phone with POST /people/search.")})
    qs = queries.search_people(queries.people(request.user).prefetch_related("tags"), q)
    if type:
        qs = qs.filter(person_type=type)
    if tag:
        qs = qs.filter(tags__code=tag)
    return Mapped(qs, lambda p: person_out(p, request.user))


class ExactSearchIn(Schema):
    value: str  # a full ID number, passport number or phone
    reason: str = ""  # required without the permission privacy.reveal_personal_data; logged


class ExactSearchOut(Schema):
    search: str  # the stored search's token (for ?search= on the list page and exports)
    count: int
    items: list[PersonOut]


@router.post("/people/search", response={200: ExactSearchOut, 400: dict, 429: dict})
def search_people_exactly(request, payload: ExactSearchIn):
    """Find people by a full ID number, passport number or phone: logged (one access row per person
    found), a reason needed without the reveal permission, a small budget of searches per hour (429)."""
    try:
        stored, people = exact.find_people(request.user, payload.value, payload.reason, ip=client_ip(request))
    except BudgetExhausted as exc:
        return Status(429, {"detail": str(exc), "retry_after": exc.retry_after})
    people = list(people.prefetch_related("tags")[:50])
    return {"search": stored.token.hex, "count": len(people), "items": [person_out(p, request.user) for p in people]}


@router.get("/people/{pk}", response={200: PersonOut, **errors(404)})
def get_person(request, pk: int):
    return person_out(queries.one(queries.people(request.user), pk), request.user)


@router.post("/people", response={201: PersonOut, **errors(400, 403)})
def register_person(request, payload: PersonIn):
    """Register a resident or tenant; with `room` their residence starts at once."""
    return Status(201, person_out(actions.register_person(request.user, _data(payload)), request.user))


@router.put("/people/{pk}", response={200: PersonOut, **errors(400, 403, 404, 409)})
def update_person(request, pk: int, payload: PersonIn):
    person = queries.one(queries.people(request.user), pk)
    data = {k: v for k, v in _data(payload).items() if k not in {"room", "area_code", "moved_in", "source"}}
    return person_out(actions.update_person(request.user, person, data, version=payload.version), request.user)


@router.get("/people/{pk}/tenancies", response={200: list[TenancyOut], **errors(404)})
def person_tenancies(request, pk: int):
    person = queries.one(queries.people(request.user), pk)
    return [
        {"id": t.id, "person": t.person_id, "room": t.room_id, "room_text": str(t.room), "moved_in": t.moved_in,
         "moved_out": t.moved_out, "source": t.source}
        for t in person.tenancies.select_related("room__building")
    ]  # fmt: skip


@router.post("/people/{pk}/move-in", response={200: PersonOut, **errors(400, 403, 404, 409)})
def move_in(request, pk: int, payload: MoveIn):
    """A new residence; the current one ends the same day. 409 when the person changed meanwhile."""
    person = queries.one(queries.people(request.user), pk)
    room = resolve_one(queries.rooms(request.user), payload.room, "room")
    actions.move_in(
        request.user, person, room, moved_in=payload.moved_in, source=payload.source, note=payload.note,
        version=payload.version,
    )  # fmt: skip
    return person_out(queries.people(request.user).get(pk=pk), request.user)


@router.post("/people/{pk}/move-out", response={200: PersonOut, **errors(400, 403, 404, 409)})
def move_out(request, pk: int, payload: MoveOut):
    person = queries.one(queries.people(request.user), pk)
    actions.move_out(request.user, person, moved_out=payload.moved_out, version=payload.version)
    return person_out(queries.people(request.user).get(pk=pk), request.user)


# --- rentals --------------------------------------------------------------------------------


@router.get("/rentals", response=list[RentalOut])
@paginate
def list_rentals(request, q: str = "", status: str = ""):
    qs = queries.search_text_fields(queries.rentals(request.user), q, "building__code", "building__name",
                                    "landlord_name")  # fmt: skip
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs.prefetch_related("rooms"), rental_out, page_fn=rentals_out)


@router.get("/rentals/{pk}", response={200: RentalOut, **errors(404)})
def get_rental(request, pk: int):
    return rental_out(queries.one(queries.rentals(request.user), pk))


@router.post("/rentals", response={201: RentalOut, **errors(400, 403)})
def create_rental(request, payload: RentalIn):
    return Status(201, rental_out(actions.save_rental(request.user, _data(payload))))


@router.put("/rentals/{pk}", response={200: RentalOut, **errors(400, 403, 404, 409)})
def update_rental(request, pk: int, payload: RentalIn):
    rental = queries.one(queries.rentals(request.user), pk)
    return rental_out(actions.save_rental(request.user, _data(payload), rental=rental, version=payload.version))


# --- places ---------------------------------------------------------------------------------


@router.get("/places", response=list[PlaceOut])
@paginate
def list_places(request, q: str = "", type: str = "", licence: str = "", tag: str = ""):
    qs = queries.search_text_fields(queries.places(request.user).prefetch_related("risk_tags"), q, "name",
                                    "credit_code", "address__full_text")  # fmt: skip
    if type:
        qs = qs.filter(place_type__code=type)
    if licence:
        qs = qs.filter(licence_status=licence)
    if tag:
        qs = qs.filter(risk_tags__code=tag)
    return Mapped(qs, place_out)


@router.get("/places/{pk}", response={200: PlaceOut, **errors(404)})
def get_place(request, pk: int):
    return place_out(queries.one(queries.places(request.user), pk))


@router.post("/places", response={201: PlaceOut, **errors(400, 403)})
def create_place(request, payload: PlaceIn):
    return Status(201, place_out(actions.save_place(request.user, _data(payload))))


@router.put("/places/{pk}", response={200: PlaceOut, **errors(400, 403, 404, 409)})
def update_place(request, pk: int, payload: PlaceIn):
    place = queries.one(queries.places(request.user), pk)
    return place_out(actions.save_place(request.user, _data(payload), place=place, version=payload.version))


# The landlords' endpoints and the declarations their grid staff verify, on this same router.
from . import api_landlords  # noqa: E402, F401
