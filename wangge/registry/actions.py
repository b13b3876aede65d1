"""Every change to the registers: checked, written, recorded (wangge.history) in one transaction.

Inputs are plain dicts of field values (from a form or an API schema); bad input raises
ValidationError naming the field, a user without the right raises PermissionDenied, a stale
version raises StaleVersion (HTTP 409). Personal data is normalised, validated, encrypted, hashed
and masked here and nowhere else; change records hold only the masked form.
"""

import math
import secrets
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.areas.locate import OutsideCity, locate, locate_many
from wangge.areas.models import Area
from wangge.core import pii
from wangge.core.imports import ImportRejected, RowError
from wangge.history.actions import record_change
from wangge.history.context import current_request_id, current_source
from wangge.history.models import ChangeAction, ChangeRecord

from . import queries
from .models import (
    Building,
    BuildingUse,
    LicenceStatus,
    Person,
    PersonType,
    Place,
    PlaceType,
    RentalHouse,
    RentalStatus,
    RiskClass,
    Room,
    StandardAddress,
    Tag,
    TagKind,
    Tenancy,
    TenancySource,
)
from .validators import name_key, parse_id_number, search_text, validate_credit_code

# Roles that keep the registers of their areas; leaders and departments only read them.
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


# --- standard addresses ---------------------------------------------------------------------

ADDRESS_PARTS = ("town", "community", "road", "number", "building_no", "unit", "room")


def _point(data: dict, errors: dict, user) -> tuple[float | None, float | None, Area | None]:
    lat, lng = data.get("lat"), data.get("lng")
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        errors["lat"] = _("Give the point: latitude and longitude (WGS-84).")
        return None, None, None
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        errors["lat"] = _("Latitude must be between -90 and 90.")
        return None, None, None
    if not (math.isfinite(lng) and -180 <= lng <= 180):
        errors["lng"] = _("Longitude must be between -180 and 180.")
        return None, None, None
    try:
        area = Area.objects.defer("boundary").get(pk=locate(lat, lng).id)
    except OutsideCity:
        errors["lat"] = _("This point is outside the city.")
        return lat, lng, None
    if not _in_scope(user, area):
        errors["lat"] = _("This point lies in %(area)s, outside your jurisdiction.") % {"area": area.name}
        return lat, lng, None
    return lat, lng, area


@transaction.atomic
def save_address(user, data: dict, *, address: StandardAddress | None = None, version=None) -> StandardAddress:
    """Create (address=None) or update a standard address; its leaf area comes from the point."""
    _check_editor(user)
    if address is not None:
        _check_version(address, version)
    errors = {}
    parts = {p: _text(data, p, errors, max_length=StandardAddress._meta.get_field(p).max_length) for p in ADDRESS_PARTS}
    full_text = _text(data, "full_text", errors, max_length=300) or "".join(parts.values())
    if not full_text:
        errors["full_text"] = _("Give the address text or its parts.")
    code = _text(data, "code", errors, max_length=40)
    lat, lng, area = _point(data, errors, user)
    if code and StandardAddress.objects.filter(code=code).exclude(pk=getattr(address, "pk", None)).exists():
        errors["code"] = _("Another address has the code %(c)s.") % {"c": code}
    if errors:
        raise ValidationError(errors)
    before = None
    if address is None:
        address = StandardAddress(code=code or _new_code(StandardAddress, f"{area.code}A"))
    else:
        before = address.history_snapshot()
        _bump(address, version)
        address.code = code or address.code
    for key, value in parts.items():
        setattr(address, key, value)
    address.full_text, address.lat, address.lng = full_text, lat, lng
    address.area, address.area_path = area, area.path
    address.search_text = search_text(full_text, *parts.values(), address.code)
    address.updated_at = timezone.now()
    _save_unique(address, "code", _("Another address has this code."))
    _record(address, before, user)
    if before is not None and before["area"] != area.code:  # the buildings move with their address
        for building in address.buildings.all():
            _move_building_area(building, area)
    return address


class AddressBulk:
    """The bulk action for address imports: batches of rows checked in memory and written with one
    INSERT statement per batch (executemany), one summary change record per batch.

    check(items) validates a batch without writing: parts and lengths, the point (range, then the
    leaf area of every point at once with locate_many, then the jurisdiction by path prefix), codes
    (duplicates inside the batch, and one query per batch against the register: a code the user
    may see means "update that address", any other is refused). write(items) writes the checked
    items: new addresses in bulk, updates through save_address (per row, with their before → after
    change record, as a form edit). One instance serves one import (it numbers the generated codes
    across batches). Items are dicts of the address fields (code, town … room, full_text, lat, lng).
    """

    FIELDS = (
        "area_id", "area_path", "version", "created_at", "updated_at", "code", *ADDRESS_PARTS,
        "full_text", "search_text", "lat", "lng",
    )  # fmt: skip

    def __init__(self, user, *, file_name: str = ""):
        _check_editor(user)
        self.user, self.file_name = user, file_name
        scope = scope_for(user)
        self.everything, self.paths = scope.everything, tuple(scope.area_paths)
        self.next_number: dict[str, int] = {}  # code prefix → the next free running number
        self.lengths = {p: StandardAddress._meta.get_field(p).max_length for p in ADDRESS_PARTS}
        self._cache_size = None

    def __enter__(self):
        """On SQLite, a larger page cache for the import's connection (IMPORT_CACHE_KB): a
        million-row transaction otherwise spills its index pages out of the default 2 MB and reads
        them back. Given back by __exit__."""
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self._cache_size = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA cache_size = -{int(IMPORT_CACHE_KB)}")
        return self

    def __exit__(self, *exc):
        if self._cache_size is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(self._cache_size)}")
            self._cache_size = None

    def check(self, items: list[dict]) -> list[dict[str, str]]:
        """The errors of each item ({field: reason}; empty when it may be written). A good item gets
        its "code", "full_text", "_area" (the located leaf) and "_existing" (pk of the address it updates)."""
        errors: list[dict[str, str]] = [{} for _item in items]
        lengths = list(self.lengths.items())
        points = []  # indexes of the items with a valid point
        for i, item in enumerate(items):
            err = errors[i]
            for part, limit in lengths:
                value = item.get(part)
                if value.__class__ is not str:  # text is taken as given (stripped by the reader)
                    item[part] = value = "" if value is None else str(value).strip()
                if len(value) > limit:
                    err[part] = _("At most %(n)s characters.") % {"n": limit}
            full_text = str(item.get("full_text") or "").strip() or "".join([item[p] for p in ADDRESS_PARTS])
            item["full_text"] = full_text
            if not full_text:
                err["full_text"] = _("Give the address text or its parts.")
            elif len(full_text) > 300:
                err["full_text"] = _("At most %(n)s characters.") % {"n": 300}
            code = str(item.get("code") or "").strip()
            item["code"] = code
            if len(code) > 40:
                err["code"] = _("At most %(n)s characters.") % {"n": 40}
            try:
                lat, lng = float(item.get("lat")), float(item.get("lng"))
            except (TypeError, ValueError):
                err["lat"] = _("Give the point: latitude and longitude (WGS-84).")
                continue
            if not (-90 <= lat <= 90):  # also false for NaN
                err["lat"] = _("Latitude must be between -90 and 90.")
            elif not (-180 <= lng <= 180):
                err["lng"] = _("Longitude must be between -180 and 180.")
            else:
                item["lat"], item["lng"] = lat, lng
                points.append(i)
        found = locate_many([items[i]["lat"] for i in points], [items[i]["lng"] for i in points]) if points else []
        everything, paths = self.everything, self.paths
        for i, area in zip(points, found, strict=True):
            if area is None:
                errors[i]["lat"] = _("This point is outside the city.")
            elif everything or area.path.startswith(paths):
                items[i]["_area"] = area
            else:
                errors[i]["lat"] = _("This point lies in %(area)s, outside your jurisdiction.") % {"area": area.name}
        self._check_codes(items, errors)
        return errors

    def _check_codes(self, items, errors):
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            code = item["code"]
            if not code:
                continue
            if code in first:
                errors[i]["code"] = _("Another address has the code %(c)s.") % {"c": code}
            else:
                first[code] = i
        stored = {}
        codes = list(first)
        table = connection.ops.quote_name(StandardAddress._meta.db_table)
        with connection.cursor() as cursor:  # plain SQL: the ORM costs microseconds per IN parameter
            for start in range(0, len(codes), 10_000):  # one query per batch (of at most 10,000 rows)
                chunk = codes[start : start + 10_000]
                cursor.execute(
                    f"SELECT code, id, area_path FROM {table} WHERE code IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
                    chunk,
                )
                stored.update((code, (pk, path)) for code, pk, path in cursor.fetchall())
        for code, (pk, path) in stored.items():
            i = first[code]
            if self.everything or path.startswith(self.paths):
                items[i]["_existing"] = pk
            else:
                errors[i]["code"] = _("Another address has the code %(c)s.") % {"c": code}
        for i, item in enumerate(items):  # new addresses without a code: the next numbers of their leaf
            if not item["code"] and not errors[i] and "_area" in item:
                item["code"] = self._new_code(item["_area"].code + "A")

    def _new_code(self, prefix: str) -> str:
        if prefix not in self.next_number:
            last = (
                StandardAddress.objects.filter(code__gte=prefix, code__lt=prefix + "~")
                .order_by("-code").values_list("code", flat=True).first()
            )  # fmt: skip
            tail = (last or prefix)[len(prefix) :]
            self.next_number[prefix] = int(tail) + 1 if tail.isdigit() else 1
        n = self.next_number[prefix]
        self.next_number[prefix] = n + 1
        return f"{prefix}{n:05d}"

    # Inside the import's transaction no savepoint per batch: on SQLite a savepoint copies every page
    # it changes to a statement journal, which made a million-row import three times slower.
    @transaction.atomic(savepoint=False)
    def write(self, items: list[dict]) -> dict:
        """Write items that check() passed: {"created": n, "updated": n}. A refused update (someone
        changed the address meanwhile) raises ValidationError."""
        new = [item for item in items if "_existing" not in item]
        counts = {"created": len(new), "updated": 0}
        if new:
            self._insert(new)
        for item in items:
            if "_existing" in item:
                address = (
                    StandardAddress.objects.select_related("area").defer("area__boundary").get(pk=item["_existing"])
                )
                data = {k: item[k] for k in ("code", *ADDRESS_PARTS, "full_text", "lat", "lng")}
                save_address(self.user, data, address=address)
                counts["updated"] += 1
        return counts

    def _insert(self, new: list[dict]) -> None:
        now = timezone.now()
        stamp = connection.ops.adapt_datetimefield_value(now)
        parts = ADDRESS_PARTS
        # Inserted in area order: the area indexes then take the batch in long runs, not page by page.
        new = sorted(new, key=lambda item: item["_area"].path)
        rows = [
            (
                item["_area"].id, item["_area"].path, 1, stamp, stamp, item["code"], *(item[p] for p in parts),
                item["full_text"], search_text(item["full_text"], *(item[p] for p in parts), item["code"]),
                item["lat"], item["lng"],
            )
            for item in new
        ]  # fmt: skip
        table = connection.ops.quote_name(StandardAddress._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f) for f in self.FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 (no user text)
            before = cursor.fetchone()[0] or 0
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(self.FIELDS))})",  # noqa: S608
                rows,
            )
            cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
            last = cursor.fetchone()[0]
        user = self.user if self.user.is_authenticated else None
        # One summary record per batch, not one per row: the ids it covers, the file, the first and last code.
        ChangeRecord.objects.create(
            time=now,
            user=user,
            user_name=user.get_username() if user else "",
            source=current_source(),
            request_id=current_request_id(),
            action=ChangeAction.CREATE,
            object_type=ContentType.objects.get_for_model(StandardAddress),
            object_id=IMPORT_BATCH_ID,
            object_repr=(_("Imported %(n)d standard addresses") % {"n": len(new)})[:200],
            after={
                "count": len(new), "file": self.file_name, "first_id": before + 1, "last_id": last,
                "first_code": new[0]["code"], "last_code": new[-1]["code"],
            },
        )  # fmt: skip


IMPORT_BATCH_ID = "import"  # ChangeRecord.object_id of an import batch's summary record
IMPORT_CACHE_KB = 131_072  # SQLite page cache of a bulk import's connection: at most 128 MB, used as needed


def import_addresses(user, rows: list[dict], *, file_name: str = "", partial: bool = False) -> dict:
    """Import standard addresses in bulk (AddressBulk), 10,000 rows a batch, in one transaction.
    A row may carry its file line as "line" (else its position + 1).

    All or nothing: any bad row → ImportRejected listing every error (line, field, reason) and
    nothing written; partial=True writes the good rows and returns the others' errors."""
    errors: list[RowError] = []
    counts = {"created": 0, "updated": 0}
    with AddressBulk(user, file_name=file_name) as bulk, transaction.atomic():
        for start in range(0, len(rows), 10_000):
            batch = [
                {k: v.strip() if isinstance(v, str) else v for k, v in r.items()} for r in rows[start : start + 10_000]
            ]
            found = bulk.check(batch)
            for i, row_errors in enumerate(found):
                line = batch[i].get("line") or start + i + 1
                errors.extend(RowError(file_name, line, reason, field) for field, reason in row_errors.items())
            if errors and not partial:
                continue  # check the rest, write nothing
            for key, n in bulk.write([b for b, e in zip(batch, found, strict=True) if not e]).items():
                counts[key] += n
        if errors and not partial:
            raise ImportRejected(errors)
    return {**counts, "errors": errors}


def imported_in(address: StandardAddress):
    """The summary change record of the import batch that created this address, if it came in bulk."""
    return (
        ChangeRecord.objects.filter(
            object_type=ContentType.objects.get_for_model(StandardAddress),
            object_id=IMPORT_BATCH_ID,
            after__first_id__lte=address.pk,
            after__last_id__gte=address.pk,
        )
        .order_by("-time")
        .first()
    )


def _move_building_area(building: Building, area: Area) -> None:
    Building.objects.filter(pk=building.pk).update(area=area, area_path=area.path)
    Room.objects.filter(building=building).update(area_path=area.path)
    Tenancy.objects.filter(room__building=building).update(area_path=area.path)
    Person.objects.filter(residence__building=building).update(area=area, area_path=area.path)
    RentalHouse.objects.filter(building=building).update(area=area, area_path=area.path)


def _visible_address(user, value, errors, field="address"):
    if value in (None, ""):
        errors[field] = _("Choose the standard address.")
        return None
    found = queries.addresses(user).filter(code=str(value)).first()
    if found is None and str(value).isdigit():
        found = queries.addresses(user).filter(pk=int(value)).first()
    if found is None:
        errors[field] = _("No standard address %(a)s in your jurisdiction.") % {"a": value}
    return found


# --- buildings and rooms ----------------------------------------------------------------------


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


# --- people ---------------------------------------------------------------------------------


def _tags(codes, kind: str, errors: dict, field: str) -> list[Tag]:
    codes = [c for c in (codes or []) if c]
    tags = list(Tag.objects.filter(code__in=codes, kind=kind, is_active=True))
    unknown = sorted(set(codes) - {t.code for t in tags})
    if unknown:
        errors[field] = _("Unknown tag: %(t)s.") % {"t": ", ".join(unknown)}
    return tags


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


def _check_duplicate(user, identity: dict, person: Person | None) -> None:
    for key, field, column in (("id", "id_number", "id_number_hash"), ("passport", "passport", "passport_hash")):
        if key not in identity:
            continue
        others = Person.objects.filter(**{column: identity[key][1]})
        if person is not None:
            others = others.exclude(pk=person.pk)
        existing = others.first()
        if existing is not None:
            visible = queries.people(user).filter(pk=existing.pk).first()
            raise DuplicatePerson(field, visible)


def _visible_room(user, value, errors, field="room"):
    if value in (None, ""):
        return None
    room = queries.rooms(user).filter(pk=value).first() if str(value).isdigit() else None
    if room is None:
        errors[field] = _("No room %(r)s in your jurisdiction.") % {"r": value}
    return room


@transaction.atomic
def register_person(user, data: dict) -> Person:
    """A new person; with data["room"] their residence starts at once (a tenancy from data["moved_in"])."""
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
    _check_duplicate(user, person._identity, None)
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


# --- landlords ------------------------------------------------------------------------------


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
    before = person.history_snapshot()
    _bump(person, version)
    _end_tenancy(user, current, day)
    person.residence = None  # the person stays in the register of the area where they lived
    person.updated_at = timezone.now()
    person.save(update_fields=["residence", "updated_at", "version"])
    _record(person, before, user)
    return current


# --- rental houses --------------------------------------------------------------------------


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


# --- places ---------------------------------------------------------------------------------


@transaction.atomic
def save_place(user, data: dict, *, place: Place | None = None, version=None) -> Place:
    _check_editor(user)
    if place is not None:
        _check_version(place, version)
    errors = {}
    name = _text(data, "name", errors, required=True, max_length=100)
    place_type = PlaceType.objects.filter(code=str(data.get("place_type") or ""), is_active=True).first()
    if place_type is None:
        errors["place_type"] = _("Choose the type of place.")
    credit_code = None
    if str(data.get("credit_code") or "").strip():
        try:
            credit_code = validate_credit_code(str(data["credit_code"]))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    licence_status = str(data.get("licence_status") or LicenceStatus.NONE)
    if licence_status not in LicenceStatus.values:
        errors["licence_status"] = _("Unknown licence status %(s)s.") % {"s": licence_status}
    licence_expires = _date(data, "licence_expires", errors)
    address = _visible_address(user, data.get("address"), errors)
    building = None
    if data.get("building"):
        value = str(data["building"])
        building = queries.buildings(user).filter(code=value).first() or (
            queries.buildings(user).filter(pk=int(value)).first() if value.isdigit() else None
        )
        if building is None:
            errors["building"] = _("No building %(b)s in your jurisdiction.") % {"b": value}
    contact_name = _text(data, "contact_name", errors, max_length=50)
    phone = _phone(data, "contact_phone", errors) if "contact_phone" in data else None
    risk_tags = _tags(data.get("risk_tags"), TagKind.PLACE, errors, "risk_tags") if "risk_tags" in data else None
    if credit_code and Place.objects.filter(credit_code=credit_code).exclude(pk=getattr(place, "pk", None)).exists():
        errors["credit_code"] = _("Another place is registered with this credit code.")
    if errors:
        raise ValidationError(errors)
    before = None
    if place is None:
        place = Place()
    else:
        before = place.history_snapshot()
        _bump(place, version)
    place.name, place.place_type, place.credit_code = name, place_type, credit_code
    place.licence_status, place.licence_expires = licence_status, licence_expires
    place.address, place.building, place.contact_name = address, building, contact_name
    if phone is not None:
        place.contact_phone_encrypted, place.contact_phone_hash, place.contact_phone_masked = phone
    place.area, place.area_path = address.area, address.area_path
    place.updated_at = timezone.now()
    _save_unique(place, "credit_code", _("Another place is registered with this credit code."))
    if risk_tags is not None:
        place.risk_tags.set(risk_tags)
    _record(place, before, user)
    return place
