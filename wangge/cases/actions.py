"""Every change to a case: intake, the transitions of the closed loop (CJJ/T 106), and deadlines.

A transition is one row of TRANSITIONS (from which states, by which kind of actor) plus one step
function. transition() checks the version, the actor and the state, runs the step, bumps the
version, appends the event and queues notifications — all in one transaction.
"""

import math
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Department, Role, User
from wangge.areas.coords import distance_m
from wangge.areas.locate import OutsideCity, locate
from wangge.areas.models import Area
from wangge.core import pii
from wangge.core.hotsql import insert
from wangge.notify import actions as notify
from wangge.worktime.calendar import deadline_after

from . import refs
from . import roles as R
from .models import (
    ACTION_LABELS,
    ACTIVE_ASSIGNMENT,
    COMMAND_LEVELS,
    OPEN_STATUSES,
    Assignment,
    AssignmentStatus,
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Channel,
    ExtensionStatus,
    MatterItem,
    Outcome,
    Severity,
    Status,
)

# Used when no DeadlineRule row matches: (hours to dispatch, hours to handle).
DEFAULT_LIMITS = {Severity.NORMAL: (4, 48), Severity.IMPORTANT: (2, 24), Severity.URGENT: (0.5, 4)}
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


class TransitionRefused(Exception):
    """A transition that cannot be made; `status` is the HTTP status pages and API answer with."""

    status = 400


class TransitionNotAllowed(TransitionRefused):
    """The action is not possible in the case's current state (HTTP 400)."""


class NotPermitted(TransitionRefused):
    """The user is not the kind of actor this action needs (HTTP 403)."""

    status = 403


class StaleVersion(TransitionRefused):
    """Somebody changed the case since the user loaded it (HTTP 409)."""

    status = 409

    def __init__(self, current_version):
        self.current_version = current_version
        super().__init__(
            _("Someone else changed this case in the meantime (now version %(v)s). Reload it and try again.")
            % {"v": current_version}
        )


@dataclass(frozen=True)
class Rule:
    dispatch_hours: float
    handle_hours: float
    working_hours: bool = False
    remind_before_hours: float = 24
    escalate_when_overdue: bool = True


def rule_for(matter_item: MatterItem | None, severity: str) -> Rule:
    row = refs.deadline_rule(matter_item.pk if matter_item else None, severity)
    if row is None:
        dispatch, handle = DEFAULT_LIMITS[severity]
        return Rule(dispatch, handle, remind_before_hours=min(24, handle / 4))
    return Rule(
        row.dispatch_hours, row.handle_hours, row.working_hours, row.remind_before_hours, row.escalate_when_overdue
    )


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
    photo_ids: list[int] = field(default_factory=list)


def _check_report(report: Report, user) -> dict:
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
        from wangge.accounts.scope import scope_for

        area = Area.objects.filter(code=report.area_code).first()
        if area is None or not scope_for(user).covers_path(area.path):
            errors["area_code"] = _("Unknown area %(code)s.") % {"code": report.area_code}
        else:
            found["area"] = area
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
    if report.photo_ids:
        photos = list(CasePhoto.objects.filter(pk__in=report.photo_ids, case__isnull=True))
        if len(photos) != len(set(report.photo_ids)) or any(
            p.uploaded_by_id not in (None, getattr(user, "pk", None)) for p in photos
        ):
            errors["photo_ids"] = _("Unknown photo.")
        found["photos"] = photos
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


def find_replay(user, key: str) -> Case | None:
    if not key:
        return None
    return Case.objects.filter(idempotency_key=_scoped_key(user, key)).first()


def _scoped_key(user, key: str) -> str:
    owner = f"u{user.pk}" if user is not None and user.is_authenticated else "public"
    return f"{owner}:{key}"


def report_case(report: Report, user=None) -> tuple[Case, bool]:
    """Take a report in; (case, created). The same idempotency key returns the same case.

    The key is looked up only when the create fails (the unique key refuses a second case, or the
    replayed report no longer validates, e.g. its photos are attached now): no query for the
    first, and by far the most common, submission.

    Checks and reads come first; the write transaction holds only the writes (on SQLite other
    writers wait for it, so it is kept short).
    """
    try:
        case, photos = _new_case(report, user)
        with transaction.atomic():
            return _write_case(case, photos, user), True
    except (IntegrityError, ValidationError):
        existing = find_replay(user, report.idempotency_key)
        if existing is None:
            raise
        return existing, False


def _new_case(report: Report, user) -> tuple[Case, list]:
    """The case a report makes (not saved yet) and the photos it brings; ValidationError if bad."""
    found = _check_report(report, user)
    area = found["area"]
    matter_item = found.get("matter_item")
    category = found.get("category") or (matter_item.category if matter_item else None)
    severity = report.severity or (matter_item.default_severity if matter_item else Severity.NORMAL)
    now = timezone.now()
    rule = rule_for(matter_item, severity)
    urgent = severity == Severity.URGENT
    reporter = user if user is not None and user.is_authenticated else None
    case = Case(
        tracking_number=_tracking_number(),
        idempotency_key=_scoped_key(user, report.idempotency_key) if report.idempotency_key else None,
        channel=report.channel,
        # Urgent cases skip the registration queue: they wait for dispatch at once.
        status=Status.REGISTERED if urgent else Status.REPORTED,
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
        reporter_name=report.reporter_name.strip() or (str(reporter) if reporter else ""),
        reporter_phone_encrypted=pii.encrypt(pii.normalize_phone(report.reporter_phone))
        if report.reporter_phone
        else "",
        dispatch_deadline=deadline_after(now, rule.dispatch_hours, working_hours=rule.working_hours),
        created_at=now,
        updated_at=now,
    )
    case.duplicate_of_id = likely_duplicate_id(case)
    case.number = _number_expression(now)
    return case, found.get("photos", [])


def _write_case(case: Case, photos: list, user) -> Case:
    """Save a new case with its first event and tell who needs to know (inside the caller's transaction)."""
    insert(case)  # the number comes back from the INSERT (RETURNING)
    event = _append_event(
        case, "report", "", case.status, user, _actor_role(user) if user else "public", data={"channel": case.channel}
    )
    if photos:
        CasePhoto.objects.filter(pk__in=[p.pk for p in photos]).update(case=case, event=event)
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


# ---------------------------------------------------------------------------------------------
# Transitions


@dataclass(frozen=True)
class Transition:
    action: str
    from_statuses: tuple[str, ...]
    actors: frozenset[str]

    @property
    def label(self):
        return ACTION_LABELS[self.action]


D, G, H, P, S = R.DISPATCHER, R.GRID_MANAGER, R.HANDLER, R.REPORTER, R.SYSTEM
TRANSITIONS = {
    t.action: t
    for t in [
        Transition("register", (Status.REPORTED,), frozenset({D})),
        Transition("reject", (Status.REPORTED, Status.REGISTERED), frozenset({D})),
        Transition("handle_on_site", (Status.REPORTED, Status.REGISTERED), frozenset({G})),
        Transition("dispatch", (Status.REPORTED, Status.REGISTERED, Status.HANDLING), frozenset({D})),
        Transition("accept", (Status.HANDLING,), frozenset({H})),
        Transition("return", (Status.HANDLING,), frozenset({H})),
        Transition("request_extension", (Status.HANDLING,), frozenset({H})),
        Transition("decide_extension", (Status.HANDLING,), frozenset({D})),
        Transition("feedback", (Status.HANDLING,), frozenset({H})),
        Transition("escalate", OPEN_STATUSES, frozenset({D, S})),
        Transition("verify_pass", (Status.VERIFYING,), frozenset({G})),
        Transition("verify_fail", (Status.VERIFYING,), frozenset({G})),
        Transition("close", OPEN_STATUSES, frozenset({D})),
        Transition("evaluate", (Status.CLOSED,), frozenset({D, P})),
        Transition("reopen", (Status.CLOSED,), frozenset({D})),
        Transition("merge", (Status.REPORTED, Status.REGISTERED), frozenset({D})),
    ]
}


@dataclass
class Step:
    """What a step function hands back to transition()."""

    to_status: str
    note: str = ""
    data: dict = field(default_factory=dict)
    public: bool = True
    notifications: list = field(default_factory=list)  # callables(case): queue notifications


def allowed_actions(user, case: Case) -> list[Transition]:
    """The actions this user may take on this case now (the page shows exactly these)."""
    kinds = R.actor_kinds(user, case)
    result = []
    for t in TRANSITIONS.values():
        if case.status in t.from_statuses and t.actors & kinds:
            try:
                STEP_CHECKS.get(t.action, lambda c, u: None)(case, user)
            except (TransitionNotAllowed, NotPermitted):
                continue
            result.append(t)
    return result


def transition(case: Case | int, user, action: str, *, version: int | None, **params) -> Case:
    """Carry out one action of the table. version: what the user saw; None only for the system."""
    transition_ = TRANSITIONS.get(action)
    if transition_ is None:
        raise ValidationError({"action": _("Unknown action %(a)s.") % {"a": action}})
    with transaction.atomic():
        case_id = case.pk if isinstance(case, Case) else case
        case = Case.objects.select_for_update().get(pk=case_id)
        if version is not None and case.version != version:
            raise StaleVersion(case.version)
        kinds = {R.SYSTEM} if user is None else R.actor_kinds(user, case)
        if not transition_.actors & kinds:
            raise NotPermitted(_("Your role cannot %(a)s this case.") % {"a": str(transition_.label).lower()})
        if case.status not in transition_.from_statuses:
            raise TransitionNotAllowed(
                _("A case that is %(s)s cannot be %(a)s.")
                % {"s": case.get_status_display(), "a": str(transition_.label).lower()}
            )
        from_status = case.status
        step = STEPS[action](case, user, **params)
        now = timezone.now()
        updated = Case.objects.filter(pk=case.pk, version=case.version).update(
            status=step.to_status,
            version=F("version") + 1,
            updated_at=now,
            **_case_fields(case),
        )
        if updated != 1:  # belt and braces: the row lock should make this impossible
            raise StaleVersion(Case.objects.get(pk=case.pk).version)
        event = _append_event(
            case,
            action,
            from_status,
            step.to_status,
            user,
            params.get("as_role") or _actor_role(user),
            note=step.note,
            data=step.data,
            public=step.public,
            lat=params.get("lat"),
            lng=params.get("lng"),
        )
        photo_ids = params.get("photo_ids") or []
        if photo_ids:
            CasePhoto.objects.filter(pk__in=photo_ids).update(case=case, event=event)
        case.refresh_from_db()
        for callback in step.notifications:
            callback(case)
        notify.emit_event(f"case.{action}", case_payload(case))
        return case


# Fields a step may change on the case object before transition() writes it.
STEP_FIELDS = (
    "outcome",
    "outcome_reason",
    "severity",
    "category_id",
    "matter_item_id",
    "command_level",
    "merged_into_id",
    "dispatched_at",
    "closed_at",
    "handled_on_site",
    "satisfaction",
    "satisfaction_comment",
    "dispatcher_rating",
    "is_overdue",
)


def _case_fields(case: Case) -> dict:
    return {f: getattr(case, f) for f in STEP_FIELDS}


def _require(value, field_name, message):
    if value in (None, "", [], ()):
        raise ValidationError({field_name: message})
    return value


def _actor_role(user) -> str:
    if user is None:
        return "system"
    if not user.is_authenticated:
        return "public"
    roles = sorted(user.roles)
    return roles[0] if roles else ("admin" if user.is_superuser else "")


def _append_event(case, action, from_status, to_status, user, role, *, note="", data=None, public=True, **where):
    return insert(
        CaseEvent(
            case=case,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor=user if user is not None and user.is_authenticated else None,
            actor_name=str(user) if user is not None and user.is_authenticated else "",
            actor_role=role,
            note=note,
            data=data or {},
            is_public=public,
            lat=where.get("lat"),
            lng=where.get("lng"),
        )
    )


def _check_photos(case, user, photo_ids, required: bool):
    if required and not photo_ids:
        raise ValidationError({"photo_ids": _("A photo is needed as proof.")})
    if photo_ids:
        count = (
            CasePhoto.objects.filter(pk__in=photo_ids, event__isnull=True)
            .filter(case__isnull=True, uploaded_by=user)
            .count()
            + CasePhoto.objects.filter(pk__in=photo_ids, event__isnull=True, case=case).count()
        )
        if count != len(set(photo_ids)):
            raise ValidationError({"photo_ids": _("Unknown photo.")})


def _my_assignment(case, user, statuses) -> Assignment:
    departments = R.handler_department_ids(user)
    assignment = case.assignments.filter(department_id__in=departments, status__in=statuses).order_by("id").first()
    if assignment is None:
        raise TransitionNotAllowed(_("Your department has no assignment on this case in that state."))
    return assignment


def _step_register(case, user, *, note="", category=None, matter_item=None, severity=None, **_params):
    if matter_item:
        item = MatterItem.objects.filter(code=matter_item, is_active=True).first()
        if item is None:
            raise ValidationError({"matter_item": _("Unknown matter item %(code)s.") % {"code": matter_item}})
        case.matter_item_id = item.pk
        case.category_id = case.category_id or item.category_id
    if category:
        found = Category.objects.filter(code=category, is_active=True).first()
        if found is None:
            raise ValidationError({"category": _("Unknown category %(code)s.") % {"code": category}})
        case.category_id = found.pk
    if severity:
        if severity not in Severity.values:
            raise ValidationError({"severity": _("Unknown severity %(s)s.") % {"s": severity}})
        case.severity = severity
    return Step(Status.REGISTERED, note)


def _step_reject(case, user, *, note="", reason="", **_params):
    _require(note or reason, "note", _("Say why the case is rejected."))
    case.closed_at = timezone.now()
    step = Step(Status.REJECTED, note or reason, {"reason": reason})
    step.notifications.append(_tell_reporters)
    return step


def _step_handle_on_site(case, user, *, note="", photo_ids=None, **_params):
    _check_photos(case, user, photo_ids, required=True)
    case.outcome, case.handled_on_site, case.closed_at = Outcome.HANDLED_ON_SITE, True, timezone.now()
    step = Step(Status.CLOSED, note)
    step.notifications.append(_tell_reporters)
    return step


def _step_dispatch(case, user, *, departments=None, note="", hours=None, **_params):
    codes = _require(departments, "departments", _("Choose at least one department."))
    found = list(Department.objects.filter(code__in=codes, is_active=True))
    unknown = set(codes) - {d.code for d in found}
    if unknown:
        raise ValidationError({"departments": _("Unknown department %(c)s.") % {"c": ", ".join(sorted(unknown))}})
    if hours is not None and not (0 < float(hours) <= 24 * 365):
        raise ValidationError({"hours": _("Hours must be between 0 and a year.")})
    busy = set(case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).values_list("department__code", flat=True))
    if busy & set(codes):
        raise ValidationError({"departments": _("Already working on it: %(c)s.") % {"c": ", ".join(sorted(busy))}})
    rule = rule_for(case.matter_item, case.severity)
    now = timezone.now()
    handle_hours = float(hours) if hours is not None else rule.handle_hours
    deadline = deadline_after(now, handle_hours, working_hours=rule.working_hours)
    remind_at = deadline - timedelta(hours=rule.remind_before_hours)
    assignments = [
        Assignment.objects.create(
            case=case, department=d, deadline=deadline, remind_at=remind_at if remind_at > now else None
        )
        for d in found
    ]
    case.dispatched_at = case.dispatched_at or now
    step = Step(
        Status.HANDLING,
        note,
        {"departments": [d.code for d in found], "deadline": deadline.isoformat(), "hours": handle_hours},
    )

    def tell_departments(case):
        for a in assignments:
            _notify_department(
                a.department_id,
                case,
                _("New assignment: case %(n)s") % {"n": case.number},
                _("Deadline %(d)s. %(text)s") % {"d": _local_time(a.deadline), "text": case.description[:150]},
                sms=case.severity == Severity.URGENT,
                dedupe_key=f"assignment:{a.pk}:new",
            )

    step.notifications.append(tell_departments)
    return step


def _step_accept(case, user, **_params):
    assignment = _my_assignment(case, user, [AssignmentStatus.PENDING])
    assignment.status, assignment.accepted_at = AssignmentStatus.ACCEPTED, timezone.now()
    assignment.save(update_fields=["status", "accepted_at"])
    return Step(Status.HANDLING, "", {"department": assignment.department.code})


def _step_return(case, user, *, note="", reason="", **_params):
    text = _require(note or reason, "note", _("Say why this is not your department's."))
    assignment = _my_assignment(case, user, ACTIVE_ASSIGNMENT)
    assignment.status, assignment.return_reason = AssignmentStatus.RETURNED, text
    assignment.save(update_fields=["status", "return_reason"])
    step = Step(_status_after_assignments(case), text, {"department": assignment.department.code}, public=False)
    step.notifications.append(
        lambda c: _notify_dispatchers(
            c, _("Case %(n)s returned by %(d)s") % {"n": c.number, "d": assignment.department}, None
        )
    )
    return step


def _step_request_extension(case, user, *, hours=None, note="", reason="", **_params):
    try:
        hours = float(_require(hours, "hours", _("How many more hours?")))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"hours": _("Hours must be a number.")}) from exc
    if not 0 < hours <= 24 * 90:
        raise ValidationError({"hours": _("Hours must be between 0 and 90 days.")})
    text = _require(note or reason, "note", _("Say why more time is needed."))
    assignment = _my_assignment(case, user, [AssignmentStatus.ACCEPTED])
    if assignment.extension_status == ExtensionStatus.REQUESTED:
        raise TransitionNotAllowed(_("An extension is already waiting for a decision."))
    assignment.extension_status, assignment.extension_hours, assignment.extension_reason = (
        ExtensionStatus.REQUESTED,
        hours,
        text,
    )
    assignment.save(update_fields=["extension_status", "extension_hours", "extension_reason"])
    step = Step(Status.HANDLING, text, {"department": assignment.department.code, "hours": hours}, public=False)
    step.notifications.append(
        lambda c: _notify_dispatchers(c, _("Case %(n)s: more time asked") % {"n": c.number}, None)
    )
    return step


def _step_decide_extension(case, user, *, approve=None, note="", assignment=None, **_params):
    if approve is None:
        raise ValidationError({"approve": _("Approve or refuse.")})
    pending = case.assignments.filter(extension_status=ExtensionStatus.REQUESTED)
    if assignment:
        pending = pending.filter(pk=assignment)
    target = pending.order_by("id").first()
    if target is None:
        raise TransitionNotAllowed(_("No extension is waiting for a decision."))
    data = {"department": target.department.code, "approved": bool(approve)}
    if approve:
        rule = rule_for(case.matter_item, case.severity)
        target.deadline = deadline_after(target.deadline, target.extension_hours, working_hours=rule.working_hours)
        target.remind_at = target.deadline - timedelta(hours=rule.remind_before_hours)
        target.reminded_at = target.overdue_at = None
        data["deadline"] = target.deadline.isoformat()
    target.extension_status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    target.save()
    if approve:
        case.is_overdue = (
            case.assignments.filter(status__in=ACTIVE_ASSIGNMENT, overdue_at__isnull=False)
            .exclude(pk=target.pk)
            .exists()
        )
    return Step(Status.HANDLING, note, data, public=False)


def _step_feedback(case, user, *, note="", photo_ids=None, **_params):
    text = _require(note, "note", _("Say what was done."))
    _check_photos(case, user, photo_ids, required=False)
    assignment = _my_assignment(case, user, [AssignmentStatus.ACCEPTED])
    assignment.status, assignment.feedback, assignment.done_at = AssignmentStatus.DONE, text, timezone.now()
    assignment.save(update_fields=["status", "feedback", "done_at"])
    to_status = _status_after_assignments(case)
    step = Step(to_status, text, {"department": assignment.department.code})
    if to_status == Status.VERIFYING:

        def ask_grid_managers(case):
            for manager in R.command_users(case, roles=[Role.GRID_MANAGER]):
                notify.notify(
                    manager,
                    _("Verify case %(n)s on site") % {"n": case.number},
                    case.description[:150],
                    url=case_url(case),
                    dedupe_key=f"case:{case.pk}:verify:{case.version}",
                )

        step.notifications.append(ask_grid_managers)
    return step


def _status_after_assignments(case) -> str:
    """Handling while a department works on it; verifying when all have reported back; back to
    the dispatcher when every department returned it."""
    statuses = set(case.assignments.values_list("status", flat=True))
    if statuses & set(ACTIVE_ASSIGNMENT):
        return Status.HANDLING
    if AssignmentStatus.DONE in statuses:
        return Status.VERIFYING
    return Status.REGISTERED


def _step_escalate(case, user, *, note="", **_params):
    level = COMMAND_LEVELS.index(case.command_level)
    if level + 1 >= len(COMMAND_LEVELS):
        raise TransitionNotAllowed(_("The case is already with the city command center."))
    case.command_level = COMMAND_LEVELS[level + 1]
    step = Step(case.status, note, {"to_level": case.command_level}, public=False)
    step.notifications.append(
        lambda c: _notify_dispatchers(
            c, _("Case %(n)s escalated to you") % {"n": c.number}, f"case:{c.pk}:escalated:{c.command_level}"
        )
    )
    return step


def _step_verify_pass(case, user, *, note="", photo_ids=None, **_params):
    _check_photos(case, user, photo_ids, required=False)
    case.outcome, case.closed_at = Outcome.FIXED, timezone.now()
    step = Step(Status.CLOSED, note)
    step.notifications.append(_tell_reporters)
    return step


def _step_verify_fail(case, user, *, note="", photo_ids=None, **_params):
    text = _require(note, "note", _("Say what is still wrong."))
    _check_photos(case, user, photo_ids, required=False)
    redo = list(case.assignments.filter(status=AssignmentStatus.DONE))
    for a in redo:
        a.status, a.done_at = AssignmentStatus.ACCEPTED, None
        a.save(update_fields=["status", "done_at"])

    def tell_departments(case):
        for a in redo:
            _notify_department(
                a.department_id,
                case,
                _("Case %(n)s is not fixed yet") % {"n": case.number},
                text[:150],
                dedupe_key=f"assignment:{a.pk}:verify_fail:{case.version}",
            )

    step = Step(Status.HANDLING, text, {"departments": [a.department.code for a in redo]})
    step.notifications.append(tell_departments)
    return step


CLOSING_OUTCOMES = (Outcome.NOT_RESPONSIBLE, Outcome.CANNOT_FIX, Outcome.WITHDRAWN)


def _step_close(case, user, *, outcome="", note="", reason="", **_params):
    if outcome not in CLOSING_OUTCOMES:
        raise ValidationError(
            {"outcome": _("Choose one of: %(o)s.") % {"o": ", ".join(str(o.value) for o in CLOSING_OUTCOMES)}}
        )
    text = _require(note or reason, "note", _("Say why the case is closed without a fix."))
    case.assignments.filter(status__in=ACTIVE_ASSIGNMENT).update(status=AssignmentStatus.CANCELLED)
    case.outcome, case.outcome_reason, case.closed_at = outcome, text, timezone.now()
    step = Step(Status.CLOSED, text, {"outcome": outcome})
    step.notifications.append(_tell_reporters)
    return step


def _step_evaluate(case, user, *, satisfaction=None, rating=None, note="", **_params):
    kinds = R.actor_kinds(user, case)
    data = {}
    if satisfaction is not None and (R.REPORTER in kinds):
        case.satisfaction = _score(satisfaction, "satisfaction")
        case.satisfaction_comment = note[:1000]
        data["satisfaction"] = case.satisfaction
    elif rating is not None and R.DISPATCHER in kinds:
        case.dispatcher_rating = _score(rating, "rating")
        data["rating"] = case.dispatcher_rating
    else:
        field_name = "satisfaction" if R.REPORTER in kinds else "rating"
        raise ValidationError({field_name: _("Give a score from 1 to 5.")})
    return Step(Status.CLOSED, note, data, public=False)


def evaluate_by_tracking_number(tracking_number: str, satisfaction, note: str = "") -> Case:
    """The citizen's rating from the tracking page (no account): once per case, when closed."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(tracking_number=tracking_number).first()
        if case is None:
            raise Case.DoesNotExist
        if case.status != Status.CLOSED:
            raise TransitionNotAllowed(_("The case can be rated once it is closed."))
        if case.satisfaction is not None:
            raise TransitionNotAllowed(_("This case has already been rated."))
        score = _score(satisfaction, "satisfaction")
        Case.objects.filter(pk=case.pk).update(
            satisfaction=score, satisfaction_comment=note[:1000], version=F("version") + 1, updated_at=timezone.now()
        )
        _append_event(
            case,
            "evaluate",
            case.status,
            case.status,
            None,
            "reporter",
            note=note[:1000],
            data={"satisfaction": score},
            public=False,
        )
        case.refresh_from_db()
        return case


def _score(value, field_name) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({field_name: _("Give a score from 1 to 5.")})
    return score


def _check_reopen(case, user):
    if case.closed_at and timezone.now() - case.closed_at > timedelta(days=settings.CASE_REOPEN_DAYS):
        raise TransitionNotAllowed(
            _("A case can be reopened within %(d)s days of closing.") % {"d": settings.CASE_REOPEN_DAYS}
        )


def _step_reopen(case, user, *, note="", **_params):
    _check_reopen(case, user)
    text = _require(note, "note", _("Say why the case is reopened."))
    case.outcome, case.outcome_reason, case.closed_at, case.handled_on_site = "", "", None, False
    return Step(Status.REGISTERED, text)


def _step_merge(case, user, *, into=None, note="", **_params):
    target_id = _require(into, "into", _("Choose the case to merge into."))
    target = R.visible_cases(user).filter(pk=target_id, status__in=OPEN_STATUSES).exclude(pk=case.pk).first()
    if target is None:
        raise ValidationError({"into": _("No open case %(id)s to merge into.") % {"id": target_id}})
    case.merged_into_id = target.merged_into_id or target.pk
    case.closed_at = timezone.now()
    return Step(Status.MERGED, note, {"into": target.number})


STEPS = {
    "register": _step_register,
    "reject": _step_reject,
    "handle_on_site": _step_handle_on_site,
    "dispatch": _step_dispatch,
    "accept": _step_accept,
    "return": _step_return,
    "request_extension": _step_request_extension,
    "decide_extension": _step_decide_extension,
    "feedback": _step_feedback,
    "escalate": _step_escalate,
    "verify_pass": _step_verify_pass,
    "verify_fail": _step_verify_fail,
    "close": _step_close,
    "evaluate": _step_evaluate,
    "reopen": _step_reopen,
    "merge": _step_merge,
}


def _check_assignment_state(statuses, unless_extension_waiting=False):
    def check(case, user):
        departments = R.handler_department_ids(user)
        mine = case.assignments.filter(department_id__in=departments, status__in=statuses)
        if unless_extension_waiting:
            mine = mine.exclude(extension_status=ExtensionStatus.REQUESTED)
        if not mine.exists():
            raise TransitionNotAllowed()

    return check


def _check_extension_waiting(case, user):
    if not case.assignments.filter(extension_status=ExtensionStatus.REQUESTED).exists():
        raise TransitionNotAllowed()


def _check_escalate(case, user):
    if case.command_level == COMMAND_LEVELS[-1]:
        raise TransitionNotAllowed()


# Pre-checks that decide whether an action is offered at all (the page shows only these).
STEP_CHECKS = {
    "accept": _check_assignment_state([AssignmentStatus.PENDING]),
    "return": _check_assignment_state(ACTIVE_ASSIGNMENT),
    "request_extension": _check_assignment_state([AssignmentStatus.ACCEPTED], unless_extension_waiting=True),
    "feedback": _check_assignment_state([AssignmentStatus.ACCEPTED]),
    "decide_extension": _check_extension_waiting,
    "escalate": _check_escalate,
    "reopen": _check_reopen,
}


# ---------------------------------------------------------------------------------------------
# Notifications and payloads


def case_url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def case_payload(case: Case) -> dict:
    """What webhooks receive: no personal data."""
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "severity": case.severity,
        "area": case.area.code,
        "category": case.category.code if case.category_id else None,
        "command_level": case.command_level,
        "version": case.version,
    }


def _local_time(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _notify_department(department_id, case, subject, body, *, dedupe_key, sms=False):
    """Tell every handler of a department about a case (in-app, and by SMS when sms)."""
    for handler in R.department_handlers(department_id):
        notify.notify(handler, subject, body, url=case_url(case), sms=sms, dedupe_key=dedupe_key)


def _notify_dispatchers(case, subject, dedupe_key, *, fresh_key=False):
    """In-app only, so the user ids from the reference cache are enough (no query for the users)."""
    for user_id in R.command_user_ids(case):
        notify.notify(
            User(pk=user_id),
            subject,
            case.description[:150],
            url=case_url(case),
            dedupe_key=dedupe_key,
            fresh_key=fresh_key,
        )


def _tell_reporters(case):
    """The outcome goes to the reporter and to everyone whose case was merged into this one."""
    text = _("Your report %(t)s: %(s)s. %(o)s") % {
        "t": case.tracking_number,
        "s": case.get_status_display(),
        "o": case.get_outcome_display() if case.outcome else "",
    }
    for reported in [case, *Case.objects.filter(merged_into=case)]:
        key = f"case:{reported.pk}:outcome:{case.version}"
        if reported.reporter_id:
            notify.notify(reported.reporter, text, "", url=f"/track/{reported.tracking_number}/", dedupe_key=key)
        elif reported.reporter_phone_encrypted:
            notify.notify_phone(reported.reporter_phone, text, dedupe_key=key)


# ---------------------------------------------------------------------------------------------
# Deadlines: run by the worker every minute; every step is marked in the database, so a worker
# that was stopped catches up on its next run and never repeats what it already did.


@dataclass
class DeadlineRun:
    reminded: int = 0
    overdue: int = 0
    dispatch_overdue: int = 0
    escalated: int = 0


def check_deadlines(now=None) -> DeadlineRun:
    now = now or timezone.now()
    run = DeadlineRun()
    for assignment_id in Assignment.objects.filter(
        status__in=ACTIVE_ASSIGNMENT, reminded_at__isnull=True, remind_at__lte=now
    ).values_list("pk", flat=True):
        run.reminded += _remind(assignment_id, now)
    for assignment_id in Assignment.objects.filter(
        status__in=ACTIVE_ASSIGNMENT, overdue_at__isnull=True, deadline__lte=now
    ).values_list("pk", flat=True):
        overdue, escalated = _mark_assignment_overdue(assignment_id, now)
        run.overdue += overdue
        run.escalated += escalated
    for case_id in Case.objects.filter(
        status__in=(Status.REPORTED, Status.REGISTERED), dispatch_overdue_at__isnull=True, dispatch_deadline__lte=now
    ).values_list("pk", flat=True):
        run.dispatch_overdue += _mark_dispatch_overdue(case_id, now)
    return run


@transaction.atomic
def _remind(assignment_id, now) -> int:
    claimed = Assignment.objects.filter(pk=assignment_id, reminded_at__isnull=True).update(reminded_at=now)
    if not claimed:
        return 0  # another worker got it
    a = Assignment.objects.select_related("case", "department").get(pk=assignment_id)
    _notify_department(
        a.department_id,
        a.case,
        _("Reminder: case %(n)s is due %(d)s") % {"n": a.case.number, "d": _local_time(a.deadline)},
        a.case.description[:150],
        sms=True,
        dedupe_key=f"assignment:{a.pk}:remind",
    )
    return 1


@transaction.atomic
def _mark_assignment_overdue(assignment_id, now) -> tuple[int, int]:
    claimed = Assignment.objects.filter(pk=assignment_id, overdue_at__isnull=True).update(overdue_at=now)
    if not claimed:
        return 0, 0
    a = Assignment.objects.select_related("case", "department").get(pk=assignment_id)
    case = a.case
    Case.objects.filter(pk=case.pk).update(is_overdue=True)
    _append_event(
        case, "overdue", case.status, case.status, None, "system", data={"department": a.department.code}, public=False
    )
    subject = _("Overdue: case %(n)s at %(d)s") % {"n": case.number, "d": a.department}
    for user in R.command_users(case, roles=[*R.DISPATCHER_LEVELS, Role.LEADER]):
        notify.notify(
            user, subject, case.description[:150], url=case_url(case), dedupe_key=f"assignment:{a.pk}:overdue"
        )
    rule = rule_for(case.matter_item, case.severity)
    if rule.escalate_when_overdue and case.command_level != COMMAND_LEVELS[-1]:
        transition(case.pk, None, "escalate", version=None, note=_("Escalated by rule: deadline passed."))
        return 1, 1
    return 1, 0


@transaction.atomic
def _mark_dispatch_overdue(case_id, now) -> int:
    claimed = Case.objects.filter(pk=case_id, dispatch_overdue_at__isnull=True).update(
        dispatch_overdue_at=now, is_overdue=True
    )
    if not claimed:
        return 0
    case = Case.objects.get(pk=case_id)
    _append_event(case, "dispatch_overdue", case.status, case.status, None, "system", public=False)
    _notify_dispatchers(case, _("Not dispatched in time: case %(n)s") % {"n": case.number}, f"case:{case.pk}:late")
    return 1
