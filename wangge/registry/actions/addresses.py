"""Standard addresses: one at a time (save_address) and in bulk (AddressBulk, import_addresses)."""

import math

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.scope import scope_for
from wangge.areas.locate import OutsideCity, locate, locate_many
from wangge.areas.models import Area
from wangge.core.imports import ImportRejected, RowError
from wangge.history.context import current_request_id, current_source
from wangge.history.models import ChangeAction, ChangeRecord

from ..models import (
    StandardAddress,
)
from ..validators import search_text
from .common import (
    _bump,
    _check_editor,
    _check_version,
    _in_scope,
    _move_building_area,
    _new_code,
    _record,
    _save_unique,
    _text,
)

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
