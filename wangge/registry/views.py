"""Register pages: list + search, detail with history, create/edit forms; the building's QR plate,
and the page a scanned plate opens (full record for staff of its jurisdiction, else only whether
it is registered)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from wangge.accounts.models import Role
from wangge.areas.models import Area, Level, under
from wangge.history.actions import history_for
from wangge.privacy.search import BudgetExhausted

from . import actions, compliance, exact, qr, queries
from .forms import AddressForm, BuildingForm, MoveForm, PersonForm, PlaceForm, RentalForm, RoomForm
from .models import (
    BuildingUse,
    DeclarationStatus,
    LicenceStatus,
    PersonType,
    PlaceType,
    RentalStatus,
    RiskClass,
    Room,
    Tag,
    TagKind,
)

PER_PAGE = 50
PII_FORM_FIELDS = {"id_number", "passport", "phone", "contact_phone", "landlord_phone"}


def _page(request, qs):
    return Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))


def _query(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _errors_to_form(form, exc: ValidationError):
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields and not form.fields[field].widget.is_hidden else None, errors)


def _data(form, editing: bool) -> dict:
    """The form's values; on an edit, a blank personal-data field means "keep the stored value"."""
    data = dict(form.cleaned_data)
    if editing:
        for f in PII_FORM_FIELDS:
            if f in data and not data[f]:
                del data[f]
    return data


def _save(request, form, save, editing, success_url, template, context):
    """Run one action from a valid form; on a rule error the form shows it; 409 when stale."""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(_data(form, editing))
            messages.success(request, _("Saved."))
            name, pk = success_url(obj)
            return redirect(name, pk=pk)
        except actions.StaleVersion as exc:
            form.add_error(None, str(exc))
            status = 409
        except actions.DuplicatePerson as exc:
            context["duplicate"] = exc.existing
            _errors_to_form(form, exc)
            status = 400
        except BudgetExhausted as exc:  # too many duplicates out of the user's reach this hour
            form.add_error(None, str(exc))
            status = 429
        except ValidationError as exc:
            _errors_to_form(form, exc)
            status = 400
    elif request.method == "POST":
        status = 400
    return render(request, template, {**context, "form": form}, status=status)


def _editor(request):
    if not actions.may_edit(request.user):
        raise PermissionDenied


def _posted_version(request) -> int | None:
    """The version the form was loaded at (None on a create); a tampered value is a 400, not a 500."""
    value = request.POST.get("version") or "0"
    if not value.isdigit():
        raise BadRequest("version")
    return int(value) or None


@login_required
def index(request):
    user = request.user
    counts = [
        (_("Standard addresses"), "registry:address_list", queries.addresses(user).count()),
        (_("Buildings"), "registry:building_list", queries.buildings(user).count()),
        (_("People"), "registry:person_list", queries.people(user).count()),
        (_("Rental houses"), "registry:rental_list", queries.rentals(user).count()),
        (_("Places"), "registry:place_list", queries.places(user).count()),
    ]
    context = {"counts": counts, "may_edit": actions.may_edit(user), "is_landlord": Role.LANDLORD in user.roles,
               "landlord_count": queries.landlord_rentals(user).count()}  # fmt: skip
    return render(request, "registry/index.html", context)


# --- addresses ------------------------------------------------------------------------------


@login_required
def address_list(request):
    qs = queries.addresses(request.user)
    q = request.GET.get("q", "").strip()
    near = None
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
        radius = min(float(request.GET.get("radius") or 500), 5000)
        near = queries.near(qs, lat, lng, radius)
    except (KeyError, ValueError):
        pass
    if near is not None:
        rows = [(a, round(d)) for a, d in near if not q or queries.search_text(q) in a.search_text]
        page = None
    else:
        page = _page(request, queries.search_addresses(qs, q))
        rows = [(a, None) for a in page]
    return render(
        request,
        "registry/address_list.html",
        {"rows": rows, "page": page, "q": q, "params": request.GET, "query": _query(request)},
    )


@login_required
def address_detail(request, pk):
    address = queries.one(queries.addresses(request.user), pk)
    return render(
        request,
        "registry/address_detail.html",
        {
            "address": address,
            "buildings": queries.buildings(request.user).filter(address=address),
            "places": queries.places(request.user).filter(address=address),
            "history": history_for(address)[:50],
            "imported": actions.imported_in(address),  # the summary record of its import batch, if any
            "may_edit": actions.may_edit(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, pk=None):
    _editor(request)
    address = queries.one(queries.addresses(request.user), pk) if pk else None
    initial = {f: getattr(address, f) for f in AddressForm.base_fields} if address else {}
    form = AddressForm(request.POST or None, initial=initial)
    version = _posted_version(request)

    def save(data):
        return actions.save_address(request.user, data, address=address, version=version)

    context = {"address": address, "version": address.version if address else ""}
    return _save(
        request, form, save, bool(address), lambda a: ("registry:address_detail", a.pk), "registry/address_form.html",
        context,
    )  # fmt: skip


# --- buildings and rooms --------------------------------------------------------------------


@login_required
def building_list(request):
    # The room count's GROUP BY drops Meta.ordering: order explicitly so pages never repeat rows.
    qs = queries.buildings(request.user).annotate(room_count=Count("rooms")).order_by("code")
    q = request.GET.get("q", "").strip()
    qs = queries.search_text_fields(qs, q, "code", "name", "address__full_text")
    if request.GET.get("use"):
        qs = qs.filter(use__code=request.GET["use"])
    if request.GET.get("risk_class"):
        qs = qs.filter(risk_class=request.GET["risk_class"])
    if request.GET.get("area"):
        qs = qs.filter(area_path__contains=f"/{request.GET['area']}/")
    grids = Area.objects.filter(level=Level.GRID).filter(
        Q(path__in=queries.buildings(request.user).values("area_path"))
    )
    return render(
        request,
        "registry/building_list.html",
        {
            "page": _page(request, qs),
            "params": request.GET,
            "query": _query(request),
            "uses": BuildingUse.objects.filter(is_active=True),
            "risk_classes": RiskClass.choices,
            "grids": grids,
        },
    )


def _building_context(request, building):
    rooms = list(
        building.rooms.prefetch_related(
            "tenancies__person",
        )
    )
    residents = {}
    for t in queries.tenancies(request.user).filter(room__building=building, moved_out__isnull=True):
        residents.setdefault(t.room_id, []).append(t.person)
    rentals = list(queries.rentals(request.user).filter(building=building))
    return {
        "building": building,
        "rooms": [(r, residents.get(r.pk, [])) for r in rooms],
        "rentals": list(zip(rentals, compliance.compliance_many(rentals), strict=True)),
        "places": queries.places(request.user).filter(building=building),
        "history": history_for(building)[:50],
        "may_edit": actions.may_edit(request.user),
        "room_form": RoomForm(),
        "qr_svg": qr.plate_svg(qr.plate_url(request, building)),
        "plate_url": qr.plate_url(request, building),
    }


@login_required
def building_detail(request, pk):
    building = queries.one(queries.buildings(request.user), pk)
    return render(request, "registry/building_detail.html", _building_context(request, building))


@login_required
@require_http_methods(["GET", "POST"])
def building_edit(request, pk=None):
    _editor(request)
    building = queries.one(queries.buildings(request.user), pk) if pk else None
    initial = {"address": request.GET.get("address", "")}
    if building:
        initial = {
            "code": building.code,
            "name": building.name,
            "address": building.address.code,
            "use": building.use.code,
            "floors": building.floors,
            "risk_class": building.risk_class,
            "contact_name": building.contact_name,
        }
    form = BuildingForm(request.POST or None, initial=initial)
    version = _posted_version(request)

    def save(data):
        return actions.save_building(request.user, data, building=building, version=version)

    context = {"building": building, "version": building.version if building else ""}
    return _save(
        request, form, save, bool(building), lambda b: ("registry:building_detail", b.pk),
        "registry/building_form.html", context,
    )  # fmt: skip


@login_required
@require_POST
def room_add(request, pk):
    _editor(request)
    building = queries.one(queries.buildings(request.user), pk)
    form = RoomForm(request.POST)
    if form.is_valid():
        try:
            room = actions.save_room(request.user, building, form.cleaned_data)
            messages.success(request, _("Room %(r)s added.") % {"r": room.number})
            return redirect("registry:building_detail", pk=building.pk)
        except ValidationError as exc:
            _errors_to_form(form, exc)
    context = _building_context(request, building)
    context["room_form"] = form
    return render(request, "registry/building_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def room_edit(request, pk, room_pk):
    _editor(request)
    building = queries.one(queries.buildings(request.user), pk)
    room = queries.one(Room.objects.filter(building=building), room_pk)
    initial = {f: getattr(room, f) for f in ("unit", "number", "floor", "size_sqm", "is_occupied")}
    form = RoomForm(request.POST or None, initial=initial)
    version = _posted_version(request)

    def save(data):
        return actions.save_room(request.user, building, data, room=room, version=version)

    context = {"building": building, "room": room, "version": room.version}
    return _save(
        request, form, save, True, lambda r: ("registry:building_detail", building.pk), "registry/room_form.html",
        context,
    )  # fmt: skip


@login_required
def building_qr_svg(request, pk):
    building = queries.one(queries.buildings(request.user), pk)
    return HttpResponse(qr.plate_svg(qr.plate_url(request, building)), content_type="image/svg+xml")


@login_required
def qr_sheet(request, code):
    """A printable PNG sheet of the door plates of one grid's (or any visible area's) buildings."""
    area = get_object_or_404(Area, code=code)
    buildings = queries.buildings(request.user).filter(under("area_path", area.path)).order_by("code")[:400]
    if not buildings:
        raise Http404
    png = qr.plates_png([(qr.plate_url(request, b), b.code, b.name) for b in buildings])
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="plates-{area.code}.png"'
    return response


def qr_building(request, token):
    """What a scanned door plate opens: the building page for its staff, else registered or not."""
    building = queries.Building.objects.filter(qr_token=token).first()
    if building is not None and request.user.is_authenticated:
        if queries.buildings(request.user).filter(pk=building.pk).exists():
            return redirect("registry:building_detail", pk=building.pk)
    return render(request, "registry/qr_public.html", {"registered": building is not None}, status=200)


# --- people ---------------------------------------------------------------------------------


@login_required
def person_list(request):
    return render(request, "registry/person_list.html", person_list_context(request))


def person_list_context(request, exact_form=None) -> dict:
    """The people list: by name (?q=), or the user's own exact search (?search=<token>, made by a
    POST to registry:person_search; a full number in ?q= finds nothing and says where to go)."""
    from .search_views import ExactSearchForm

    q = request.GET.get("q", "").strip()
    token = request.GET.get("search", "").strip()
    if token:
        qs = exact.stored_people(request.user, token)
    else:
        qs = queries.search_people(queries.people(request.user), q)
    qs = qs.prefetch_related("tags")
    if request.GET.get("type"):
        qs = qs.filter(person_type=request.GET["type"])
    if request.GET.get("tag"):
        qs = qs.filter(tags__code=request.GET["tag"])
    return {
        "page": _page(request, qs),
        "params": request.GET,
        "query": _query(request),
        "types": PersonType.choices,
        "tags": Tag.objects.filter(kind=TagKind.PERSON, is_active=True),
        "exact_form": exact_form or ExactSearchForm(),
        "exact_in_url": bool(q) and queries.exact_value(q) is not None,
        "exact_search": token,
    }


def _person_context(request, person, move_form=None):
    return {
        "person": person,
        "tenancies": person.tenancies.select_related("room__building"),
        "history": history_for(person)[:50],
        "may_edit": actions.may_edit(request.user),
        "move_form": move_form or MoveForm(initial={"version": person.version}),
    }


@login_required
def person_detail(request, pk):
    person = queries.one(queries.people(request.user), pk)
    return render(request, "registry/person_detail.html", _person_context(request, person))


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request, pk=None):
    _editor(request)
    person = queries.one(queries.people(request.user), pk) if pk else None
    room = None
    if person is None:
        room_id = request.POST.get("room") or request.GET.get("room")
        if room_id and request.method == "POST":  # a posted one is checked by the action (a field error)
            room = queries.rooms(request.user).filter(pk=room_id).first() if room_id.isdigit() else None
        elif room_id:
            room = queries.one(queries.rooms(request.user), room_id, "room")
    initial = {"room": room.pk if room else None}
    if person:
        initial = {
            "name": person.name,
            "person_type": person.person_type,
            "nationality": person.nationality,
            "tags": [t.code for t in person.tags.all()],
        }
    form = PersonForm(request.POST or None, initial=initial, editing=bool(person))
    version = _posted_version(request)

    def save(data):
        if person is None:
            return actions.register_person(request.user, data)
        return actions.update_person(request.user, person, data, version=version)

    context = {"person": person, "room": room, "version": person.version if person else ""}
    return _save(
        request, form, save, bool(person), lambda p: ("registry:person_detail", p.pk), "registry/person_form.html",
        context,
    )  # fmt: skip


@login_required
@require_POST
def person_move(request, pk):
    """Move in (a new residence closes the current one) or, with move=out, move out."""
    _editor(request)
    person = queries.one(queries.people(request.user), pk)
    status = 400
    if request.POST.get("move") == "out":
        form = MoveForm(initial={"version": person.version})
        try:
            actions.move_out(
                request.user, person, moved_out=request.POST.get("moved_out") or None,
                version=_posted_version(request) or 0,
            )  # fmt: skip
            messages.success(request, _("Moved out."))
            return redirect("registry:person_detail", pk=person.pk)
        except actions.StaleVersion as exc:
            form.add_error(None, str(exc))
            status = 409
        except ValidationError as exc:
            form.add_error(None, exc.messages)
    else:
        form = MoveForm(request.POST)
        if form.is_valid():
            room = queries.find_room(request.user, form.cleaned_data["building"], form.cleaned_data["room"])
            if room is None:
                form.add_error("room", _("No such room in that building (in your jurisdiction)."))
            else:
                try:
                    actions.move_in(
                        request.user, person, room, moved_in=form.cleaned_data["moved_in"],
                        version=form.cleaned_data["version"],
                    )  # fmt: skip
                    messages.success(request, _("Moved in to %(r)s.") % {"r": room})
                    return redirect("registry:person_detail", pk=person.pk)
                except actions.StaleVersion as exc:
                    form.add_error(None, str(exc))
                    status = 409
                except ValidationError as exc:
                    _errors_to_form(form, exc)
    person.refresh_from_db()
    return render(request, "registry/person_detail.html", _person_context(request, person, form), status=status)


# --- rental houses --------------------------------------------------------------------------


@login_required
def rental_list(request):
    qs = queries.rentals(request.user)
    q = request.GET.get("q", "").strip()
    qs = queries.search_text_fields(qs, q, "building__code", "building__name", "landlord_name")
    if request.GET.get("status"):
        qs = qs.filter(status=request.GET["status"])
    if request.GET.get("incomplete"):
        # Compliance is computed, not stored: filter the whole list, then page it (not page, then filter).
        rentals = list(qs)
        pairs = zip(rentals, compliance.compliance_many(rentals), strict=True)
        page = _page(request, [(r, c) for r, c in pairs if c.score < 100])
        rows = list(page)
    else:
        page = _page(request, qs)
        rows = list(zip(page, compliance.compliance_many(page), strict=True))
    return render(
        request,
        "registry/rental_list.html",
        {"page": page, "rows": rows, "params": request.GET, "query": _query(request), "statuses": RentalStatus.choices},
    )


@login_required
def rental_detail(request, pk):
    rental = queries.one(queries.rentals(request.user), pk)
    return render(
        request,
        "registry/rental_detail.html",
        {
            "rental": rental,
            "compliance": compliance.compliance(rental),
            "rooms": rental.rooms.all(),
            "history": history_for(rental)[:50],
            "may_edit": actions.may_edit(request.user),
            "declarations": queries.declarations(request.user).filter(rental=rental, status=DeclarationStatus.PENDING),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rental_edit(request, pk=None):
    _editor(request)
    rental = queries.one(queries.rentals(request.user), pk) if pk else None
    code = rental.building.code if rental else (request.POST.get("building") or request.GET.get("building", ""))
    building = queries.buildings(request.user).filter(code=code).first()
    initial = {"building": code, "status": RentalStatus.ACTIVE}
    if rental:
        initial.update(
            status=rental.status,
            rooms=[str(r.pk) for r in rental.rooms.all()],
            landlord_user=rental.landlord_user.username if rental.landlord_user_id else "",
            landlord_name=rental.landlord_name,
            registered_on=rental.registered_on,
            note=rental.note,
        )
    rooms = Room.objects.filter(building=building) if building else []
    form = RentalForm(request.POST or None, initial=initial, rooms=rooms)
    if rental is None:  # a picked building reloads the page with it, to offer its rooms (picker.js)
        form.fields["building"].widget.attrs["data-picker-reload"] = ""
    version = _posted_version(request)

    def save(data):
        return actions.save_rental(request.user, data, rental=rental, version=version)

    context = {"rental": rental, "version": rental.version if rental else ""}
    return _save(
        request, form, save, bool(rental), lambda r: ("registry:rental_detail", r.pk), "registry/rental_form.html",
        context,
    )  # fmt: skip


# --- places ---------------------------------------------------------------------------------


@login_required
def place_list(request):
    qs = queries.places(request.user).prefetch_related("risk_tags")
    q = request.GET.get("q", "").strip()
    qs = queries.search_text_fields(qs, q, "name", "credit_code", "address__full_text")
    if request.GET.get("type"):
        qs = qs.filter(place_type__code=request.GET["type"])
    if request.GET.get("three_small"):
        qs = qs.filter(place_type__is_three_small=True)
    if request.GET.get("licence"):
        qs = qs.filter(licence_status=request.GET["licence"])
    if request.GET.get("tag"):
        qs = qs.filter(risk_tags__code=request.GET["tag"])
    return render(
        request,
        "registry/place_list.html",
        {
            "page": _page(request, qs),
            "params": request.GET,
            "query": _query(request),
            "types": PlaceType.objects.filter(is_active=True),
            "licences": LicenceStatus.choices,
            "tags": Tag.objects.filter(kind=TagKind.PLACE, is_active=True),
        },
    )


@login_required
def place_detail(request, pk):
    place = queries.one(queries.places(request.user), pk)
    return render(
        request,
        "registry/place_detail.html",
        {"place": place, "history": history_for(place)[:50], "may_edit": actions.may_edit(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def place_edit(request, pk=None):
    _editor(request)
    place = queries.one(queries.places(request.user), pk) if pk else None
    initial = {"address": request.GET.get("address", ""), "building": request.GET.get("building", "")}
    if place:
        initial = {
            "name": place.name,
            "place_type": place.place_type.code,
            "credit_code": place.credit_code or "",
            "licence_status": place.licence_status,
            "licence_expires": place.licence_expires,
            "address": place.address.code,
            "building": place.building.code if place.building_id else "",
            "contact_name": place.contact_name,
            "risk_tags": [t.code for t in place.risk_tags.all()],
        }
    form = PlaceForm(request.POST or None, initial=initial)
    version = _posted_version(request)

    def save(data):
        return actions.save_place(request.user, data, place=place, version=version)

    context = {"place": place, "version": place.version if place else ""}
    return _save(
        request, form, save, bool(place), lambda p: ("registry:place_detail", p.pk), "registry/place_form.html",
        context,
    )  # fmt: skip
