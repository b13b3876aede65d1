"""The landlords' part of the registry API (on the registry router, /api/v1/registry/…): a
landlord's own rental houses and the tenants they declare (/my-rentals), and the declarations of
people registered elsewhere that the grid staff of the rental's area verify (/declarations)."""

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, Schema, Status
from ninja.pagination import paginate

from wangge.core.apitypes import Id, errors

from . import actions, compliance, queries
from .api import CheckOut, Mapped, RoomOut, router
from .models import DeclarationStatus, RentalHouse, Tenancy, TenantDeclaration

# --- landlords: their own rental houses -----------------------------------------------------


class TenantIn(Schema):
    room: Id
    name: str
    person_type: str = "floating"
    id_number: str = ""
    passport: str = ""
    phone: str = ""
    moved_in: date | None = None
    note: str = ""


class TenantOut(Schema):
    tenancy: int
    person: int
    name: str
    id_number: str  # masked
    room: int
    moved_in: date
    source: str


class DeclarationOut(Schema):
    """A declaration waiting for the grid staff, as the landlord sees it: only what they typed."""

    id: int
    room: int
    name: str = Field(description="the name as declared")
    moved_in: date
    status: str = Field(description="pending, confirmed or rejected")
    message: str = ""


def declaration_out(d: TenantDeclaration) -> dict:
    return {"id": d.id, "room": d.room_id, "name": d.declared_name, "moved_in": d.moved_in, "status": d.status,
            "message": str(_("Declaration received: the grid staff will verify it before the tenant is registered."))
            if d.status == DeclarationStatus.PENDING else ""}  # fmt: skip


class MyRentalOut(Schema):
    id: int
    building: str
    building_name: str
    address_text: str
    status: str
    compliance_score: int
    missing: list[str]
    checks: list[CheckOut]
    rooms: list[RoomOut]
    tenants: list[TenantOut]
    declarations: list[DeclarationOut] = Field(description="declarations waiting for the grid staff")


def tenant_out(t: Tenancy) -> dict:
    return {"tenancy": t.id, "person": t.person_id, "name": t.person.name,
            "id_number": t.person.id_number_masked or t.person.passport_masked, "room": t.room_id,
            "moved_in": t.moved_in, "source": t.source}  # fmt: skip


def my_rental_out(r: RentalHouse) -> dict:
    c = compliance.compliance(r)
    rooms = actions.landlord_rooms(r)
    tenancies = Tenancy.objects.filter(room__in=rooms, moved_out__isnull=True).select_related("person")
    return {
        "id": r.id, "building": r.building.code, "building_name": r.building.name,
        "address_text": r.building.address.full_text, "status": r.status, "compliance_score": c.score,
        "missing": c.missing,
        "checks": [{"key": k.key, "label": str(k.label), "ok": k.ok, "applies": k.applies, "missing": k.missing}
                   for k in c.checks],
        "rooms": [{"id": x.id, "unit": x.unit, "number": x.number, "floor": x.floor, "is_occupied": x.is_occupied,
                   "version": x.version} for x in rooms],
        "tenants": [tenant_out(t) for t in tenancies],
        "declarations": [declaration_out(d) for d in r.declarations.filter(status=DeclarationStatus.PENDING)],
    }  # fmt: skip


@router.get("/my-rentals", response=list[MyRentalOut])
def my_rentals(request):
    """The landlord's own rental houses (landlord account), each with compliance and what is missing."""
    return [my_rental_out(r) for r in queries.landlord_rentals(request.user).select_related("building__address")]


@router.get("/my-rentals/{pk}", response={200: MyRentalOut, **errors(404)})
def my_rental(request, pk: int):
    return my_rental_out(queries.one(queries.landlord_rentals(request.user), pk))


@router.post("/my-rentals/{pk}/tenants", response={201: TenantOut, 202: DeclarationOut, **errors(400, 403, 404, 429)})
def declare_tenant(request, pk: int, payload: TenantIn):
    """The landlord declares a tenant of one of the rental's rooms (tenancy source: landlord); 404 for
    a rental that is not theirs. 202: the declaration waits for the grid staff (a new tenant and one
    registered elsewhere alike, so the answer never tells whether a number is registered); 201: one
    of the landlord's own tenants moved to this room."""
    rental = queries.one(queries.landlord_rentals(request.user), pk)
    result = actions.declare_tenant(request.user, rental, payload.dict())
    if isinstance(result, TenantDeclaration):
        return Status(202, declaration_out(result))
    return Status(201, tenant_out(result))


class MoveOutIn(Schema):
    tenancy: Id = Field(description="a current tenancy of this rental house (tenants[].tenancy)")
    moved_out: date | None = Field(None, description="the day the tenant left (default: today; not in the future)")


class MovedOutOut(TenantOut):
    moved_out: date


@router.post("/my-rentals/{pk}/move-outs", response={200: MovedOutOut, **errors(400, 403, 404)})
def record_move_out(request, pk: int, payload: MoveOutIn):
    """The landlord records that a tenant of the rental moved out: direct (no staff confirmation),
    recorded with the landlord as the actor, the grid staff told. 404 for a rental that is not theirs;
    a tenancy that is not a current one of this rental is a field error (400, `tenancy`)."""
    rental = queries.one(queries.landlord_rentals(request.user), pk)
    tenancy = actions.record_move_out(request.user, rental, payload.dict())
    return {**tenant_out(tenancy), "moved_out": tenancy.moved_out}


# --- tenant declarations: verified by the staff of the rental's area --------------------------


class StaffDeclarationOut(Schema):
    id: int
    rental: int
    building: str
    room: int
    room_text: str
    declared_name: str
    name_matches: bool = Field(description="the declared name is the registered person's")
    id_number: str = Field(description="the registered person's number, masked")
    moved_in: date
    note: str
    status: str
    declared_at: datetime


class ReviewIn(Schema):
    decision: str = Field(description="confirm (the person moves in) or reject")
    note: str = ""


def staff_declaration_out(d: TenantDeclaration) -> dict:
    return {"id": d.id, "rental": d.rental_id, "building": d.rental.building.code, "room": d.room_id,
            "room_text": str(d.room), "declared_name": d.declared_name, "name_matches": d.name_matches,
            "id_number": (d.person.id_number_masked or d.person.passport_masked) if d.person else "",
            "moved_in": d.moved_in,
            "note": d.note, "status": d.status, "declared_at": d.declared_at}  # fmt: skip


@router.get("/declarations", response=list[StaffDeclarationOut])
@paginate
def list_declarations(request, status: str = "pending"):
    """Landlords' declarations of tenants registered elsewhere, in rentals of your areas."""
    qs = queries.declarations(request.user)
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs, staff_declaration_out)


@router.post("/declarations/{pk}/review", response={200: StaffDeclarationOut, **errors(400, 403, 404, 409)})
def review_declaration(request, pk: int, payload: ReviewIn):
    """confirm: the person moves into the declared room (their residence elsewhere ends); reject."""
    declaration = queries.one(queries.declarations(request.user), pk)
    reviewed = actions.review_declaration(request.user, declaration, payload.decision, payload.note)
    return staff_declaration_out(queries.declarations(request.user).get(pk=reviewed.pk))
