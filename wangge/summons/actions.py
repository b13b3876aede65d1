"""Every change to a summons (吹哨报到): summon departments to a place, report an arrival from the
phone, close. Each checks the rule, writes, appends the trail (the case's events when the summons is
for a case, change records always) and queues the notifications, in one transaction.

An arrival is judged only on what the phone sent: no fix, a fix less precise than
SUMMONS_MAX_ACCURACY_M, or a fix farther than the summons' radius from the place is recorded and
flagged, never counted and never guessed; a good fix after the deadline is counted as late, never
refused."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wangge.accounts.resolve import resolve_by, resolve_one
from wangge.areas.locate import OutsideCity, locate
from wangge.areas.models import Area
from wangge.cases import roles as case_roles
from wangge.cases.actions import TransitionNotAllowed
from wangge.cases.actions.common import record_event
from wangge.cases.models import OPEN_STATUSES, Case, Severity
from wangge.history.actions import record_change, snapshot
from wangge.history.models import ChangeAction
from wangge.notify import actions as notify

from . import queries
from .models import Arrival, Attendance, Status, SummonedDepartment, Summons

REASON_MAX = 500
ADDRESS_MAX = Summons._meta.get_field("address").max_length
MAX_MINUTES = 7 * 24 * 60  # a summons is for now: a week ahead at most
EARTH_RADIUS_M = 6371008.8


def summons_url(summons: Summons) -> str:
    return f"/summons/{summons.pk}/"


def default_minutes(severity: str | None) -> int:
    table = settings.SUMMONS_DEADLINE_MINUTES
    return int(table.get(severity or Severity.NORMAL, table[Severity.NORMAL]))


@transaction.atomic
def summon(
    user,
    *,
    departments,
    case=None,
    lat=None,
    lng=None,
    address="",
    reason="",
    arrive_by=None,
    minutes=None,
    severity=None,
) -> Summons:
    """Call departments (codes) to a place by a deadline: arrive_by (a time), else minutes from now,
    else the default for the severity (the case's, or the one given). The place: lat/lng (WGS-84),
    else the case's point. Each department's staff are told at once, in-app and by SMS."""
    if not queries.may_summon(user):
        raise PermissionDenied(_("Only town and village dispatchers summon departments."))
    errors: dict[str, str] = {}
    now = timezone.now()
    found_case = None
    if case not in (None, ""):
        # Only a case of the dispatcher's own area: another town's answers as an unknown one.
        cases = (
            case_roles.visible_cases(user, Case.objects.select_related("area"))
            .filter(queries.summoning_q(user))
            .filter(status__in=OPEN_STATUSES)  # a closed case's work is done: nobody is summoned to it
        )
        found_case = resolve_one(cases, getattr(case, "pk", case), "case")
    reason = (reason or "").strip()
    address = (address or "").strip()
    if len(reason) > REASON_MAX:
        errors["reason"] = _("At most %(n)s characters.") % {"n": REASON_MAX}
    elif not reason and found_case is None:
        errors["reason"] = _("Say what the departments are summoned for.")
    if len(address) > ADDRESS_MAX:
        errors["address"] = _("At most %(n)s characters.") % {"n": ADDRESS_MAX}
    area, lat, lng = _place(user, found_case, lat, lng, errors)
    if severity not in (None, "") and not (isinstance(severity, str) and severity in Severity.values):
        errors["severity"] = _("Choose a severity from the list.")
        severity = None
    deadline = _deadline(arrive_by, minutes, (found_case.severity if found_case else severity) or None, now, errors)
    codes = departments if isinstance(departments, (list, tuple)) else [departments] if departments else []
    codes = [c for c in codes if str(c).strip()]
    found_departments = []
    if not codes:
        errors["departments"] = _("Choose at least one department.")
    elif area is not None:
        message = _("Unknown department, or not one that serves this place.")
        try:
            found_departments = resolve_by(
                queries.summonable_departments(area.path), codes, "departments", attr="code", message=message
            )
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    summons = Summons.objects.create(
        case=found_case,
        reason=reason,
        lat=lat,
        lng=lng,
        address=address or (found_case.address if found_case else ""),
        area=area,
        area_path=area.path,
        created_by=user,
        created_at=now,
        arrive_by=deadline,
        radius_m=settings.SUMMONS_ARRIVAL_RADIUS_M,
    )
    summoned = [
        SummonedDepartment.objects.create(summons=summons, department=d, notified_at=now) for d in found_departments
    ]
    record_change(summons, ChangeAction.CREATE, acting_user=user, after=snapshot(summons))
    if found_case is not None:
        record_event(
            found_case,
            "summoned",
            user,
            note=reason,
            data={
                "summons": summons.pk,
                "departments": [d.code for d in found_departments],
                "arrive_by": timezone.localtime(deadline).isoformat(),  # read on pages: local time
            },
        )
    subject = _("Summons: report on site by %(t)s") % {"t": _local(deadline)}
    what = reason or (found_case.description[:100] if found_case else "")
    body = " · ".join(part for part in (summons.address, what) if part)
    for row in summoned:
        for handler in case_roles.department_handlers(row.department_id):
            notify.notify(
                handler, subject, body, url=summons_url(summons), sms=True, dedupe_key=f"summons:{row.pk}:called"
            )
    return summons


def _place(user, case, lat, lng, errors) -> tuple[Area | None, float | None, float | None]:
    """The place's leaf area and point: the point given (located), else the case's."""
    given = not (_blank(lat) and _blank(lng))
    if not given:
        if case is None or case.lat is None or case.lng is None:
            errors["lat"] = _("Pick the place on the map.")
            return None, None, None
        return case.area, case.lat, case.lng
    lat = _coordinate(lat, "lat", -90, 90, errors)
    lng = _coordinate(lng, "lng", -180, 180, errors)
    if lat is None or lng is None:
        if "lat" not in errors and "lng" not in errors:
            errors["lat"] = _("Give both latitude and longitude.")
        return None, None, None
    try:
        located = locate(lat, lng)
    except OutsideCity:
        errors["lat"] = _("This place is outside the city.")
        return None, None, None
    if not queries.may_summon_at(user, located.path):
        errors["lat"] = _("This place is outside your jurisdiction.")
        return None, None, None
    return Area.objects.get(pk=located.id), lat, lng


def _deadline(arrive_by, minutes, severity, now, errors) -> datetime | None:
    if not _blank(arrive_by):
        try:
            moment = arrive_by if isinstance(arrive_by, datetime) else parse_datetime(str(arrive_by).strip())
        except ValueError:  # well formed, but no such day or hour
            moment = None
        if moment is None:
            errors["arrive_by"] = _("Give a date and time.")
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment <= now:
            errors["arrive_by"] = _("The deadline is in the past.")
        elif moment - now > timedelta(minutes=MAX_MINUTES):
            errors["arrive_by"] = _("A summons is for the coming week at most.")
        return moment
    if not _blank(minutes):
        try:
            value = float(minutes)
        except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer beyond a float
            value = math.nan
        if isinstance(minutes, bool) or not (0 < value <= MAX_MINUTES):
            errors["minutes"] = _("Give the minutes to arrive: more than 0, at most a week.")
            return None
        return now + timedelta(minutes=value)
    return now + timedelta(minutes=default_minutes(severity))


@transaction.atomic
def report_arrival(user, summons: Summons, *, lat=None, lng=None, accuracy=None) -> list[Arrival]:
    """The phone's report "we are here" for each summoned department the user works for: recorded
    with the server's time, the distance to the place and its flags. The first good fix of a
    department is its arrival (on time, or late after the deadline)."""
    errors: dict[str, str] = {}
    has_fix = not (_blank(lat) and _blank(lng))
    if has_fix:
        lat = _coordinate(lat, "lat", -90, 90, errors)
        lng = _coordinate(lng, "lng", -180, 180, errors)
        if not errors and (lat is None or lng is None):
            errors["lat"] = _("Give both latitude and longitude, or neither.")
    else:
        lat = lng = None
    accuracy = None if _blank(accuracy) else _coordinate(accuracy, "accuracy", 0, 1e7, errors)
    if errors:
        raise ValidationError(errors)
    summons = Summons.objects.select_for_update().get(pk=summons.pk)
    mine = list(
        SummonedDepartment.objects.select_for_update()
        .filter(summons=summons, department_id__in=queries.handler_department_ids(user))
        .select_related("department")
    )
    if not mine:
        raise PermissionDenied(_("Only staff of a summoned department report arrival."))
    if summons.status != Status.OPEN:
        raise TransitionNotAllowed(_("This summons is closed."))
    now = timezone.now()
    distance = distance_m(lat, lng, summons.lat, summons.lng) if has_fix else None
    flags = {
        "late": now > summons.arrive_by,
        "no_fix": not has_fix,
        "poor_fix": has_fix and (accuracy is None or accuracy > settings.SUMMONS_MAX_ACCURACY_M),
        "too_far": distance is not None and distance > summons.radius_m,
    }
    arrivals = []
    for row in mine:
        arrival = Arrival(
            summoned=row,
            user=user,
            at=now,
            lat=lat,
            lng=lng,
            accuracy_m=accuracy,
            distance_m=None if distance is None else round(distance, 1),
            **flags,
        )
        arrival.save()
        arrivals.append(arrival)
        record_change(arrival, ChangeAction.CREATE, acting_user=user, after=snapshot(arrival), related=summons)
        first = arrival.counts and row.arrived_at is None
        if first:
            before = snapshot(row)
            row.arrived_at, row.arrived_by, row.distance_m = now, user, arrival.distance_m
            row.state = Attendance.LATE if flags["late"] else Attendance.ARRIVED
            row.save(update_fields=["arrived_at", "arrived_by", "distance_m", "state"])
            record_change(row, ChangeAction.UPDATE, acting_user=user, before=before, after=snapshot(row))
            text = _("%(d)s arrived on site (%(s)s)") % {"d": row.department.name, "s": row.get_state_display()}
            key = f"summons:{row.pk}:arrived"
            notify.notify(summons.created_by, text, summons.reason[:150], url=summons_url(summons), dedupe_key=key)
        if summons.case_id:
            record_event(
                summons.case,
                "summons_arrival",
                user,
                data={
                    "summons": summons.pk,
                    "department": row.department.code,
                    "department_name": row.department.name,
                    "distance_m": arrival.distance_m,
                    "accuracy_m": accuracy,
                    "counted": first,
                    "flags": arrival.flags,
                },
            )
    return arrivals


@transaction.atomic
def close_summons(user, summons: Summons) -> Summons:
    """The dispatcher ends the summons: departments that never arrived are marked absent."""
    summons = Summons.objects.select_for_update().get(pk=summons.pk)
    if not (summons.created_by_id == user.pk or queries.may_summon_at(user, summons.area_path)):
        raise PermissionDenied(_("Only the dispatchers of this place close its summons."))
    if summons.status != Status.OPEN:
        raise TransitionNotAllowed(_("This summons is closed."))
    before = snapshot(summons)
    summons.status, summons.closed_at, summons.closed_by = Status.CLOSED, timezone.now(), user
    summons.save(update_fields=["status", "closed_at", "closed_by"])
    absent = list(summons.departments.filter(state=Attendance.WAITING).select_related("department"))
    summons.departments.filter(state=Attendance.WAITING).update(state=Attendance.ABSENT)
    record_change(summons, ChangeAction.UPDATE, acting_user=user, before=before, after=snapshot(summons))
    if summons.case_id:
        record_event(
            summons.case,
            "summons_closed",
            user,
            data={"summons": summons.pk, "absent": [row.department.name for row in absent]},
        )
    return summons


def mark_overdue(now=None) -> int:
    """Open summonses whose deadline passed with a department still missing: each is claimed once (a
    conditional UPDATE, so two workers never both tell), the missing departments go on the case's trail,
    and the dispatcher is told (in-app and by SMS). Returns how many were marked."""
    now = now or timezone.now()
    due = Summons.objects.filter(status=Status.OPEN, arrive_by__lt=now, overdue_at__isnull=True)
    marked = 0
    for summons_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            if not Summons.objects.filter(pk=summons_id, overdue_at__isnull=True).update(overdue_at=now):
                continue  # another worker took it
            marked += 1
            summons = Summons.objects.select_related("case", "created_by").get(pk=summons_id)
            missing = [
                row.department.name
                for row in summons.departments.filter(state=Attendance.WAITING).select_related("department")
            ]
            if not missing:
                continue
            if summons.case_id:
                record_event(summons.case, "summons_overdue", None, data={"summons": summons.pk, "absent": missing})
            text = _("Summons #%(n)s: not arrived by the deadline: %(d)s") % {"n": summons.pk, "d": "、".join(missing)}
            notify.notify(
                summons.created_by,
                text,
                summons.reason[:150],
                url=summons_url(summons),
                sms=True,
                dedupe_key=f"summons:{summons.pk}:overdue",
            )
    return marked


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres (haversine), WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return EARTH_RADIUS_M * 2 * math.asin(math.sqrt(a))


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _coordinate(value, field, low, high, errors) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer beyond a float
        number = math.nan
    if isinstance(value, bool) or not (low <= number <= high):  # NaN fails every comparison
        errors[field] = _("Give a number from %(lo)s to %(hi)s.") % {"lo": low, "hi": high}
        return None
    return number


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")
