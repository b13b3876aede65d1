"""What a user may see of each register: the user's area memberships (accounts.scope), never a
department's service area — a city department sees the cases assigned to it, not the city's people."""

import math
import re
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.http import Http404

from wangge.accounts.resolve import resolve_one
from wangge.accounts.scope import scope_for
from wangge.areas.coords import distance_m
from wangge.core import pii

from .models import Building, Person, Place, RentalHouse, Room, StandardAddress, Tenancy, TenantDeclaration
from .validators import parse_id_number, search_text

# Every list and page joins the row's area for its name and code, never its boundary (a grid's
# GeoJSON, kilobytes a row): .defer("area__boundary").


def restrict(queryset, user):
    return queryset.filter(scope_for(user).area_q("area_path", include_department_areas=False))


def one(queryset, pk, field: str = "id"):
    """The row with this id in a queryset already narrowed to the user's reach (accounts.resolve), or
    404: pages and API answer an id elsewhere exactly like an id that does not exist."""
    try:
        return resolve_one(queryset, pk, field)
    except ValidationError:
        raise Http404 from None


def addresses(user):
    return restrict(StandardAddress.objects.select_related("area").defer("area__boundary"), user)


def buildings(user):
    return restrict(Building.objects.select_related("area", "address", "use").defer("area__boundary"), user)


def rooms(user):
    return restrict(Room.objects.select_related("building"), user)


def people(user):
    return restrict(Person.objects.select_related("area", "residence__building").defer("area__boundary"), user)


def tenancies(user):
    return restrict(Tenancy.objects.select_related("person", "room__building"), user)


def rentals(user):
    return restrict(
        RentalHouse.objects.select_related("area", "building", "landlord_user").defer("area__boundary"), user
    )


def declarations(user):
    """Tenant declarations waiting for (or answered by) the staff of the rentals' areas."""
    return restrict(
        TenantDeclaration.objects.select_related("person", "room__building", "rental__building", "declared_by"), user
    )


def landlord_rentals(user):
    """The rental houses whose landlord account is this user (a landlord has no area jurisdiction:
    they see their own houses only, wherever they are)."""
    if not user.is_authenticated:
        return RentalHouse.objects.none()
    return (
        RentalHouse.objects.filter(landlord_user=user)
        .select_related("area", "building", "landlord_user")
        .defer("area__boundary")
    )


def places(user):
    return restrict(
        Place.objects.select_related("area", "place_type", "address", "building").defer("area__boundary"), user
    )


# --- search ---------------------------------------------------------------------------------


def search_addresses(qs, q: str):
    """Any part of the text: a substring of the normalised column (see validators.search_text)."""
    needle = search_text(q)
    return qs.filter(search_text__contains=needle) if needle else qs


def near(qs, lat: float, lng: float, radius_m: float = 500, limit: int = 50):
    """Rows with lat/lng within radius_m of the point, nearest first: [(row, metres)].

    The (lat, lng) index narrows to the bounding box; exact distances are computed for those only.
    """
    dlat = radius_m / 111_000
    dlng = radius_m / (111_000 * max(math.cos(math.radians(lat)), 0.1))
    box = qs.filter(lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng))[:5000]
    found = [(row, distance_m(lng, lat, row.lng, row.lat)) for row in box]
    return sorted([f for f in found if f[1] <= radius_m], key=lambda f: f[1])[:limit]


_ID_LIKE = re.compile(r"^\d{15}$|^\d{17}[\dXx]$")


def exact_value(q: str) -> tuple[str, str] | None:
    """(field, keyed hash) when q is a full ID number, phone or passport number, else None.

    Such values are never searched from a URL (?q=): they go through the exact search
    (wangge.privacy.search: a POST, logged, budgeted), so a search cannot confirm a guessed number.
    """
    q = (q or "").strip()
    if _ID_LIKE.match(q):
        try:
            number = parse_id_number(q).number
        except ValidationError:
            number = q.upper()
        return "id_number", pii.lookup_hash(number)
    phone = pii.normalize_phone(q)
    if pii.is_valid_phone(phone) and phone.isdigit() and len(phone) >= 7:
        return "phone", pii.lookup_hash(phone)
    if q.isalnum() and q.upper() == q and len(q) >= 5 and any(c.isdigit() for c in q):
        return "passport", pii.lookup_hash(q.upper())
    return None


def search_people(qs, q: str):
    """By name: the names starting with q (indexed), or, when there are none, the names containing
    it. A full ID number, phone or passport number finds nothing here (see exact_value)."""
    q = (q or "").strip()
    if not q:
        return qs
    if exact_value(q) is not None:
        return qs.none()
    by_prefix = name_prefix(qs, q)
    if by_prefix.exists():
        return by_prefix
    return qs.filter(name__contains=q)  # a part from inside the name: a scan, only when no name starts so


def name_prefix(qs, q: str):
    """Names starting with q, on the name index: PostgreSQL's LIKE 'q%' uses the pattern index Django
    makes for an indexed text column; SQLite's LIKE ignores case and no index, so a range on the
    index narrows first (binary collation: every name with the prefix sorts between q and q + U+10FFFF)."""
    if connection.vendor == "sqlite":
        qs = qs.filter(name__gte=q, name__lt=q + "\U0010ffff")
    return qs.filter(name__startswith=q)


def search_text_fields(qs, q: str, *fields: str):
    q = (q or "").strip()
    if not q:
        return qs
    return qs.filter(reduce(or_, (Q(**{f"{f}__icontains": q}) for f in fields)))


def find_room(user, building_code: str, room_label: str):
    """A room by its building's code and "unit-number" or "number", inside the user's jurisdiction."""
    building = buildings(user).filter(code=(building_code or "").strip()).first()
    if building is None:
        return None
    label = (room_label or "").strip()
    unit, _sep, number = label.rpartition("-")
    return Room.objects.filter(building=building, unit=unit, number=number).select_related("building").first()
