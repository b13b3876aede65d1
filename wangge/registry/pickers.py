"""The JSON behind the register pickers (web/static/web/picker.js, answers shaped as in
web/pickers.py): standard addresses, and buildings found by their standard address (any part of
it, the normalised search_text) or their name or code, with their rooms as the tree's children.

Moving a person in picks the building and room here instead of typing codes: a room's row fills
the form's `room` field as well (`fill`). All of it inside the user's register jurisdiction
(queries.*); the move still resolves the building and room on the same scoped querysets.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q

from wangge.web.pickers import LIMIT, _row, answer

from . import queries
from .validators import search_text


@login_required
def addresses(request):
    get = request.GET
    qs = queries.addresses(request.user)
    if get.get("value"):
        qs = qs.filter(code=get["value"].strip())
    elif get.get("q", "").strip():
        q = get["q"].strip()
        needle = search_text(q)
        qs = qs.filter(Q(code__startswith=q) | (Q(search_text__contains=needle) if needle else Q(pk__in=[])))
    else:
        return answer([])
    return answer([_row(a.code, a.full_text, a.area.name) for a in qs.order_by("code")[:LIMIT]])


def _room_label(room) -> str:
    return f"{room.unit}-{room.number}" if room.unit else room.number


@login_required
def buildings(request):
    """Buildings by address, name or code; with ?rooms=1 each opens to its rooms, and a room's
    row fills the form's room field too (the building code stays the value); with ?rooms=pk the
    rooms are what is picked, by id (a new person's residence)."""
    get = request.GET
    rooms_mode = get.get("rooms", "")  # "1": a room fills `room` (move-in); "pk": a room's id is the value
    with_rooms = rooms_mode in ("1", "pk")
    qs = queries.buildings(request.user)
    if with_rooms and get.get("parent"):
        building = qs.filter(code=get["parent"].strip()).first()
        rooms = building.rooms.order_by("unit", "number") if building else []
        if rooms_mode == "pk":
            return answer([_row(str(r.pk), _room_label(r), building.name) for r in rooms])
        return answer(
            [_row(building.code, _room_label(r), building.name, fill={"room": _room_label(r)}) for r in rooms]
        )
    if rooms_mode == "pk" and get.get("value"):
        room = queries.rooms(request.user).filter(pk=get["value"]).first() if get["value"].isdigit() else None
        return answer([_row(str(room.pk), f"{room.building.name} {_room_label(room)}")] if room else [])
    if get.get("value"):
        qs = qs.filter(code=get["value"].strip())
    elif get.get("q", "").strip():
        q = get["q"].strip()
        needle = search_text(q)
        match = Q(name__icontains=q) | Q(code__startswith=q)
        if needle:
            match |= Q(address__search_text__contains=needle)
        qs = qs.filter(match)
    else:
        return answer([])
    qs = qs.annotate(room_count=Count("rooms")).order_by("code")[:LIMIT]
    pick = rooms_mode != "pk"  # picking a residence: a building only opens to its rooms
    return answer([_row(b.code, b.name, b.address.full_text, with_rooms and b.room_count > 0, pick) for b in qs])
