"""Intake: a report becomes a case (checked, numbered, de-duplicated, idempotent)."""

import dataclasses
import hashlib
import json
import math
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role
from wangge.accounts.resolve import resolve_by
from wangge.accounts.scope import restrict
from wangge.areas.coords import distance_m
from wangge.areas.locate import OutsideCity, locate
from wangge.areas.models import Area
from wangge.core import pii
from wangge.core.hotsql import insert
from wangge.notify import actions as notify
from wangge.worktime.calendar import deadline_after

from .. import channels, refs
from .. import roles as R
from ..models import (
    OPEN_STATUSES,
    Case,
    CasePhoto,
    Channel,
    Severity,
    Status,
)
from ..photos import resolve_for_report
from .common import _actor_role, _append_event, _notify_dispatchers, case_payload, case_url
from .errors import FilingRefused, IdempotencyConflict
from .rules import rule_for

TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


# ---------------------------------------------------------------------------------------------
# Intake


@dataclass
class Report:
    """What a reporter sends; validated by report_case."""

    description: str
    channel: str
    lat: float | None = None
    lng: float | None = None
    area_code: str = ""
    category: str = ""  # code of a minor class (部件 or 事件)
    category_kind: str = ""
    matter_item: str = ""  # code
    severity: str = ""
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    idempotency_key: str = ""
    photo_ids: list[int] = field(default_factory=list)  # photos this user uploaded
    photo_tokens: list[str] = field(default_factory=list)  # by the name the upload answered (anonymous)


def _check_report(report: Report, user, system: bool | str = False) -> dict:
    refused = channels.refusal(user, report.channel, report.severity, system=system)
    if refused:
        raise FilingRefused(refused)
    errors = {}
    if not report.description or not report.description.strip():
        errors["description"] = _("Describe the problem.")
    elif len(report.description) > 2000:
        errors["description"] = _("At most 2000 characters.")
    if report.channel not in Channel.values:
        errors["channel"] = _("Unknown channel %(c)s.") % {"c": report.channel}
    if report.severity and report.severity not in Severity.values:
        errors["severity"] = _("Unknown severity %(s)s.") % {"s": report.severity}
    if report.reporter_phone and not pii.is_valid_phone(pii.normalize_phone(report.reporter_phone)):
        errors["reporter_phone"] = _("Not a valid phone number.")
    if report.channel == Channel.CITIZEN_WEB and not report.reporter_phone:
        errors["reporter_phone"] = _("A phone number is needed to tell you the outcome.")
    if len(report.address) > 200:
        errors["address"] = _("At most 200 characters.")
    if len(report.reporter_name) > 50:
        errors["reporter_name"] = _("At most 50 characters.")
    if len(report.idempotency_key) > 150:
        errors["idempotency_key"] = _("At most 150 characters.")
    found = {}
    if report.lat is not None or report.lng is not None:
        if report.lat is None or report.lng is None:
            errors["lat" if report.lat is None else "lng"] = _("Give both latitude and longitude.")
        elif not (-90 <= report.lat <= 90) or not math.isfinite(report.lat):
            errors["lat"] = _("Latitude must be between -90 and 90.")
        elif not (-180 <= report.lng <= 180) or not math.isfinite(report.lng):
            errors["lng"] = _("Longitude must be between -180 and 180.")
        else:
            try:
                found["area"] = _area_of(locate(report.lat, report.lng))
            except OutsideCity:
                errors["lat"] = _("This place is outside the city; the platform cannot take cases there.")
    elif report.area_code:
        # An area named by code must be in the filer's jurisdiction (a point may be anywhere).
        message = _("Unknown area %(code)s.") % {"code": report.area_code}
        areas = restrict(Area.objects.all(), user) if user is not None else Area.objects.none()
        try:
            found["area"] = resolve_by(areas, [report.area_code], "area_code", attr="code", message=message)[0]
        except ValidationError as exc:
            errors.update(exc.message_dict)
    else:
        errors["lat"] = _("Give the location: a point (lat, lng) or an area code.")
    if report.category:
        # "event:0102" or a bare code with category_kind; part and event lists reuse codes.
        kind, _sep, code = report.category.rpartition(":")
        kind = kind or report.category_kind
        found["category"] = refs.category(code, kind)
        if found["category"] is None:
            errors["category"] = _("Unknown category %(code)s.") % {"code": report.category}
    if report.matter_item:
        found["matter_item"] = refs.matter_item(report.matter_item)
        if found["matter_item"] is None:
            errors["matter_item"] = _("Unknown matter item %(code)s.") % {"code": report.matter_item}
    if report.photo_ids or report.photo_tokens:
        try:
            found["photos"] = resolve_for_report(user, report.photo_ids, report.photo_tokens)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return found


def _area_of(located) -> Area:
    """The Area row of a located point, built from the area index (no query; other fields load on use)."""
    values = {"id": located.id, "code": located.code, "name": located.name, "level": located.level}
    values["path"] = located.path
    names = [f.attname for f in Area._meta.concrete_fields if f.attname in values]
    return Area.from_db(DEFAULT_DB_ALIAS, names, [values[n] for n in names])


def _number_expression(now) -> RawSQL:
    """The case number, written by the INSERT itself: the local date and a six-digit serial.

    SQLite: the serial is the id this INSERT gets (the table's AUTOINCREMENT counter + 1; exact,
    as an intake transaction holds the write lock from BEGIN IMMEDIATE). PostgreSQL: the sequence
    cases_case_number_seq (migration 0003), which started above every id that existed then.
    """
    prefix = f"{timezone.localtime(now):%Y%m%d}"
    if connection.vendor == "postgresql":
        return RawSQL(
            "(SELECT %s || CASE WHEN n < 1000000 THEN to_char(n, 'FM000000') ELSE n::text END"
            " FROM (SELECT nextval('cases_case_number_seq') AS n) AS serial)",
            [prefix],
        )
    return RawSQL(
        "printf('%%s%%06d', %s, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name = %s))",
        [prefix, Case._meta.db_table],
    )


def _tracking_number() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def report_digest(report: Report) -> str:
    """A fingerprint of what was reported (everything but the key): a replay must match it."""
    fields = dataclasses.asdict(report)
    del fields["idempotency_key"]
    fields["photo_ids"] = sorted(str(i) for i in fields["photo_ids"])
    fields["photo_tokens"] = sorted(str(t) for t in fields["photo_tokens"])
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def scoped_key(report: Report, user, digest: str, *, system: bool | str = False) -> str | None:
    """The key as stored: in the space of the client that sent it. An account's keys are its own; the
    platform's (sensor alarms) are the system's; anonymous clients share no identity, so their key
    only counts together with the report it came with (two citizens sending "1" file two cases)."""
    key = report.idempotency_key
    if not key:
        return None
    if system:
        return f"{system if isinstance(system, str) else 'system'}:{key}"
    if user is not None and user.is_authenticated:
        return f"u{user.pk}:{key}"
    return f"public:{digest[:32]}:{key}"


def find_replay(report: Report, user, *, system: bool | str = False) -> Case | None:
    """The case this client already filed with this key, or None; IdempotencyConflict when the key
    was used for a different report."""
    digest = report_digest(report)
    key = scoped_key(report, user, digest, system=system)
    existing = Case.objects.filter(idempotency_key=key).first() if key else None
    if existing is not None and existing.idempotency_digest and existing.idempotency_digest != digest:
        raise IdempotencyConflict()
    return existing


def report_case(report: Report, user=None, *, system: bool | str = False) -> tuple[Case, bool]:
    """Take a report in; (case, created). The same idempotency key with the same report returns the
    same case; with another report it is refused (IdempotencyConflict, HTTP 409).

    user: the filer (None: an anonymous citizen); system: the platform itself (sensor alarms), or
    the kind of a filer that is no user (channels.OPEN311: an Open311 client application).
    The key is looked up only when the create fails (the unique key refuses a second case, or the
    replayed report no longer validates, e.g. its photos are attached now): no query for the
    first, and by far the most common, submission.

    Checks and reads come first; the write transaction holds only the writes (on SQLite other
    writers wait for it, so it is kept short).
    """
    try:
        case, photos = _new_case(report, user, system)
        with transaction.atomic():
            return _write_case(case, photos, user, system), True
    except (IntegrityError, ValidationError):
        existing = find_replay(report, user, system=system)
        if existing is None:
            raise
        return existing, False


def _new_case(report: Report, user, system: bool | str = False) -> tuple[Case, list]:
    """The case a report makes (not saved yet) and the photos it brings; ValidationError if bad."""
    found = _check_report(report, user, system)
    digest = report_digest(report) if report.idempotency_key else ""
    area = found["area"]
    matter_item = found.get("matter_item")
    category = found.get("category") or (matter_item.category if matter_item else None)
    default = matter_item.default_severity if matter_item else Severity.NORMAL
    severity = channels.severity_for(user, report.severity, default, system=system)
    now = timezone.now()
    rule = rule_for(matter_item, severity)
    urgent = severity == Severity.URGENT
    own = channels.command_centers_own(report.channel)
    reporter = user if not system and user is not None and user.is_authenticated else None
    case = Case(
        tracking_number=_tracking_number(),
        idempotency_key=scoped_key(report, user, digest, system=system),
        idempotency_digest=digest,
        channel=report.channel,
        # Urgent cases skip the registration queue: they wait for dispatch at once; so do the command
        # center's own (channels.CHANNEL_RULES: filing one is registering it).
        status=Status.REGISTERED if urgent or own else Status.REPORTED,
        severity=severity,
        description=report.description.strip(),
        address=report.address.strip(),
        lat=report.lat,
        lng=report.lng,
        area=area,
        area_path=area.path,
        command_level=R.initial_command_level(area.path),
        category=category,
        matter_item=matter_item,
        reporter=reporter,
        # A hotline case's account is the operator's, not the caller's: no name then.
        reporter_name=report.reporter_name.strip()
        or (str(reporter) if reporter and report.channel != Channel.HOTLINE else ""),
        reporter_phone_encrypted=pii.encrypt(pii.normalize_phone(report.reporter_phone))
        if report.reporter_phone
        else "",
        reporter_phone_hash=pii.phone_hash(report.reporter_phone) if report.reporter_phone else "",
        dispatch_deadline=deadline_after(now, rule.dispatch_hours, working_hours=rule.working_hours),
        created_at=now,
        updated_at=now,
    )
    # The command center's own case answers the reports around it: it is not their duplicate.
    case.duplicate_of_id = None if own else likely_duplicate_id(case)
    case.number = _number_expression(now)
    return case, found.get("photos", [])


def _write_case(case: Case, photos: list, user, system: bool | str = False) -> Case:
    """Save a new case with its first event and tell who needs to know (inside the caller's transaction)."""
    insert(case)  # the number comes back from the INSERT (RETURNING)
    # An Open311 client files for a citizen: the trail names the citizen, as for an anonymous report.
    role = "system" if system is True else (_actor_role(user) if user else "public")
    event = _append_event(case, "report", "", case.status, user, role, data={"channel": case.channel})
    if photos:
        # Still unattached: a photo claimed by another report since it was checked fails this one.
        claimed = CasePhoto.objects.filter(pk__in=[p.pk for p in photos], case__isnull=True)
        if claimed.update(case=case, event=event) != len(photos):
            raise ValidationError({"photo_ids": _("Unknown photo.")})
    if case.severity == Severity.URGENT:
        url = case_url(case)
        for leader in R.command_users(case, roles=[Role.LEADER]):
            notify.notify(
                leader,
                _("Urgent case %(n)s") % {"n": case.number},
                case.description[:200],
                url=url,
                sms=True,
                dedupe_key=f"case:{case.pk}:urgent",
            )
    _notify_dispatchers(case, _("New case %(n)s") % {"n": case.number}, f"case:{case.pk}:new", fresh_key=True)
    notify.emit_event("case.created", case_payload(case))
    return case


def likely_duplicate_id(case: Case) -> int | None:
    """An open case of the same category close by and recent (configurable distance and window)."""
    if case.category_id is None or case.lat is None:
        return None
    radius = settings.CASE_DUPLICATE_DISTANCE_M
    dlat = radius / 111_000
    dlng = radius / (111_000 * max(math.cos(math.radians(case.lat)), 0.1))
    since = case.created_at - timedelta(hours=settings.CASE_DUPLICATE_HOURS)
    params = [case.category_id, case.lat - dlat, case.lat + dlat, case.lng - dlng, case.lng + dlng]
    params += [connection.ops.adapt_datetimefield_value(since), *OPEN_STATUSES, case.pk or 0]
    with connection.cursor() as cursor:
        cursor.execute(_DUPLICATE_CANDIDATES_SQL, params)
        candidates = sorted(cursor.fetchall())
    # The earliest (ids follow creation) of the candidates within the radius wins; a candidate that
    # is itself a duplicate leads to the case it duplicates.
    for pk, lat, lng, duplicate_of_id in candidates:
        if distance_m(case.lng, case.lat, lng, lat) <= radius:
            return duplicate_of_id or pk
    return None


# Plain SQL: intake runs this for every case, and building it with the ORM cost more than running it.
# Served by the (category, lat) index: a narrow latitude band; no ORDER BY (it would make SQLite walk
# the (category, created_at) index instead: 15 ms instead of 1 ms with 10,000 recent cases of the
# category). Every candidate costs a row lookup, and in a busy street hundreds qualify: the first
# 10 are enough to find the case they duplicate (0.8 ms → 0.2 ms on the intake bench's streets).
_DUPLICATE_CANDIDATES_SQL = (
    f"SELECT id, lat, lng, duplicate_of_id FROM {Case._meta.db_table}"
    " WHERE category_id = %s AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s AND created_at >= %s"
    f" AND status IN ({', '.join(['%s'] * len(OPEN_STATUSES))}) AND id <> %s LIMIT 10"
)
