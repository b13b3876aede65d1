"""Field work state changes: GPS positions from the mobile app, inspections, and planning them."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from time import monotonic
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import Role
from wangge.accounts.resolve import resolve_one
from wangge.areas.locate import OutsideCity, locate
from wangge.cases.actions import IdempotencyConflict, Report, report_case
from wangge.cases.models import CasePhoto, Channel
from wangge.cases.photos import attachable_at_intake
from wangge.core import hotsql, pii
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction
from wangge.insight import live
from wangge.privacy import search
from wangge.registry import actions as registry_actions
from wangge.registry import queries as registry_queries
from wangge.registry.models import Building, Person, Place, RentalHouse, RentalStatus, TenancySource

from . import tracks
from .models import (
    AnswerType,
    Checklist,
    ChecklistItem,
    GpsQuality,
    Inspection,
    InspectionAnswer,
    InspectionResult,
    InspectionRule,
    InspectionTask,
    ResidentRegistration,
    Resolution,
    TargetKind,
    TaskStatus,
    TrackDay,
    WorkerPosition,
)
from .queries import assigned_grid, building_points, grid_areas


@dataclass(frozen=True)
class Position:
    at: datetime
    lat: float
    lng: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Recorded:
    accepted: int
    duplicates: int
    flagged: int


def check_positions(positions: list[Position]) -> None:
    """Every bad point, by its index; nothing is stored if one is bad."""
    now = timezone.now()
    oldest = now - timedelta(days=settings.PATROL_ACCEPT_DAYS)
    errors = {}
    for i, p in enumerate(positions):
        if timezone.is_naive(p.at):
            errors[f"points.{i}.at"] = [_("The time needs a time zone (ISO 8601 with offset).")]
        elif p.at > now + timedelta(minutes=5):
            errors[f"points.{i}.at"] = [_("The time is in the future: check the phone's clock.")]
        elif p.at < oldest:
            days = settings.PATROL_ACCEPT_DAYS
            errors[f"points.{i}.at"] = [_("The point is older than %(days)s days.") % {"days": days}]
        if not (-90 <= p.lat <= 90) or not (-180 <= p.lng <= 180):
            errors[f"points.{i}.lat"] = [_("Latitude or longitude out of range.")]
        if p.accuracy_m is not None and p.accuracy_m < 0:
            errors[f"points.{i}.accuracy_m"] = [_("Accuracy cannot be negative.")]
    if errors:
        raise ValidationError(errors)


class _Conflict(Exception):
    """Another batch of the same worker wrote the day in between: merge again."""


def record_positions(worker, positions: list[Position]) -> Recorded:
    """Add a batch of the worker's points to their track days and move their last position.

    One read-modify-write of the day's packed row per batch (no query per point). The merge and the
    figures are computed from a copy read without a lock; the write is one short transaction that
    stores the day only if its revision has not moved (else the batch is merged again), so writers
    wait for each other only for the UPDATEs. A re-sent batch (the phone did not get the answer)
    adds nothing: points are one per second. Points without accuracy, or with poor accuracy, are
    stored as they came and flagged.
    """
    areas = grid_areas(worker)  # the role check, the grid and the live event's area: no query
    if not areas and not worker.has_role(Role.GRID_MANAGER):
        raise PermissionDenied(_("Only field workers send positions."))
    check_positions(positions)
    by_day = defaultdict(list)
    tz = timezone.get_current_timezone()
    for p in positions:
        day = p.at.astimezone(tz).date()
        midnight = datetime.combine(day, time(), tzinfo=tz)
        by_day[day].append((int((p.at - midnight).total_seconds()), p.lat, p.lng, p.accuracy_m))
    new_points = {day: tracks.make_points(rows) for day, rows in by_day.items()}
    grid = assigned_grid(worker, [area_id for area_id, _path in areas])
    latest = max(positions, key=lambda p: p.at) if positions else None
    area_path = areas[0][1] if areas else ""
    for attempt in range(10):
        plans, duplicates = [], 0
        for day in sorted(new_points):
            track = _read_track(worker, day)
            merged, dupes = tracks.merge(tracks.unpack(track["points"] if track else b""), new_points[day])
            duplicates += dupes
            if dupes < len(new_points[day]):  # a batch sent again changes nothing: no write
                plans.append((day, track, _track_values(day, merged, grid)))
        try:
            with transaction.atomic():
                for day, track, values in plans:
                    _write_track(worker, day, track, values)
                if latest is not None and _move_position(worker, latest) and _live_due(worker, latest):
                    transaction.on_commit(lambda: _publish_position(worker, latest, area_path), robust=True)
            break
        except _Conflict:
            if attempt == 9:
                raise
    flagged = sum(1 for p in positions if p.accuracy_m is None or p.accuracy_m > settings.PATROL_MAX_ACCURACY_M)
    return Recorded(len(positions) - duplicates, duplicates, flagged)


def _track_values(day: date, points, grid: shapely.Geometry | None) -> dict:
    figures = tracks.figures(
        points,
        grid,
        max_accuracy_m=settings.PATROL_MAX_ACCURACY_M,
        max_gap_s=settings.PATROL_MAX_GAP_SECONDS,
        max_speed_mps=settings.PATROL_MAX_SPEED_MPS,
    )
    midnight = timezone.make_aware(datetime.combine(day, time()))
    return {
        "points": tracks.pack(points),
        "point_count": figures.point_count,
        "flagged_count": figures.flagged_count,
        "distance_m": figures.distance_m,
        "seconds_on_duty": figures.seconds_on_duty,
        "seconds_in_grid": figures.seconds_in_grid,
        "buildings_passed": tracks.buildings_passed(
            points,
            _buildings_near(points),
            max_accuracy_m=settings.PATROL_MAX_ACCURACY_M,
            within_m=settings.PATROL_BUILDING_PASSED_M,
        ),
        "first_at": midnight + timedelta(seconds=int(points["t"][0])),
        "last_at": midnight + timedelta(seconds=int(points["t"][-1])),
        "updated_at": timezone.now(),
    }


# The hot statements of a batch run as plain SQL (core.hotsql): building them with the ORM cost more
# than running them.


def _read_track(worker, day: date) -> dict | None:
    """The day's row as it is now (pk, points, revision), without a lock; None if there is none."""
    (worker_column, day_column), params = hotsql.db_values(TrackDay, {"worker": worker.pk, "day": day})
    table = connection.ops.quote_name(TrackDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, points, revision FROM {table} WHERE {worker_column} = %s AND {day_column} = %s", params
        )
        row = cursor.fetchone()
    return None if row is None else {"pk": row[0], "points": row[1], "revision": row[2]}


def _write_track(worker, day: date, track: dict | None, values: dict) -> None:
    """The day's row as merged from `track` (None: there was no row); _Conflict if it moved since."""
    if track is not None:
        where = {"id =": track["pk"], "revision =": track["revision"]}
        if not hotsql.update(TrackDay, where, {**values, "revision": track["revision"] + 1}):
            raise _Conflict
        return
    try:
        with transaction.atomic():
            TrackDay.objects.create(worker=worker, day=day, **values)
    except IntegrityError:
        raise _Conflict from None


def _buildings_near(points) -> np.ndarray:
    """Registered buildings inside the day's box (plus the passing distance), as (lat, lng) rows,
    from the process's copy of the city's building points."""
    margin = settings.PATROL_BUILDING_PASSED_M / 100_000
    lat, lng = points["lat"] / tracks.SCALE, points["lng"] / tracks.SCALE
    lats, lngs = building_points().in_box(lat.min() - margin, lng.min() - margin, lat.max() + margin,
                                          lng.max() + margin)  # fmt: skip
    return np.column_stack((lats, lngs))


# Worker id → when this process last sent their "worker.position" event.
_published_at: dict[int, float] = {}


def _live_due(worker, latest: Position) -> bool:
    """Whether this batch moves the worker's dot on open maps. A phone on duty sends a batch every
    few minutes, and its position always goes out. One catching up on older points (back from no
    signal: many batches at once) moves it at most every PATROL_LIVE_POSITION_SECONDS in this
    process, since each event is a write that every open map reads; the batch that reaches the
    present goes out again."""
    now = monotonic()
    recent = latest.at >= timezone.now() - timedelta(minutes=settings.PATROL_ON_DUTY_MINUTES)
    last = _published_at.get(worker.pk)
    if not recent and last is not None and now - last < settings.PATROL_LIVE_POSITION_SECONDS:
        return False
    if len(_published_at) > 100_000:
        _published_at.clear()
    _published_at[worker.pk] = now
    return True


def _publish_position(worker, latest: Position, area_path: str) -> None:
    """Open command maps move the worker's dot; the event is seen by those who supervise their grid."""
    live.publish(
        {
            "type": "worker.position", "username": worker.username, "name": str(worker), "lat": latest.lat,
            "lng": latest.lng, "at": timezone.localtime(latest.at).isoformat(), "area_path": area_path,
        }
    )  # fmt: skip


def _move_position(worker, latest: Position) -> bool:
    """One UPDATE in the usual case; an old batch sent late does not move the worker back."""
    try:
        area_path = locate(latest.lat, latest.lng).path
    except OutsideCity:
        area_path = ""
    values = {"lat": latest.lat, "lng": latest.lng, "accuracy_m": latest.accuracy_m, "at": latest.at}
    if hotsql.update(WorkerPosition, {"worker =": worker.pk, "at <": latest.at}, {**values, "area_path": area_path}):
        return True
    if WorkerPosition.objects.filter(worker=worker).exists():
        return False
    try:
        with transaction.atomic():
            WorkerPosition.objects.create(worker=worker, **values, area_path=area_path)
    except IntegrityError:
        return False  # a concurrent batch placed the worker first
    return True


# ---- Residents and tenants registered in the field ----------------------------------------


def register_resident(user, data: dict, *, idempotency_key: str = "") -> tuple[ResidentRegistration, bool]:
    """A person moving into a room of the worker's grid, through the registry's own actions: a new
    person is registered with the room as residence; someone already in the register (same ID or
    passport number, visible to the worker) moves in. The same idempotency key returns the first
    answer, so a registration sent twice by the phone makes one person. (registration, created)."""
    if not user.has_role(Role.GRID_MANAGER) and not user.is_superuser:
        raise PermissionDenied(_("Only field workers register residents here."))
    key = f"u{user.pk}:{idempotency_key}" if idempotency_key else None  # keys are per account
    if key and len(key) > 200:
        raise ValidationError({"idempotency_key": _("At most 150 characters.")})
    if key and (existing := ResidentRegistration.objects.filter(idempotency_key=key).first()):
        return _same_registration(existing, data), False
    try:
        with search.deferred_access_log(), transaction.atomic():  # logged after a rollback too
            return _register_resident(user, data, key), True
    except IntegrityError:
        existing = ResidentRegistration.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return _same_registration(existing, data), False


def _same_registration(existing: ResidentRegistration, data: dict) -> ResidentRegistration:
    """A replay answers with the first registration only if it registers the same person in the
    same room; a key reused for another one is refused (409), never answered with the first."""
    person = existing.person
    same_room = str(data.get("room")) == str(existing.room_id)
    if data.get("id_number"):
        same_person = pii.lookup_hash(str(data["id_number"])) == person.id_number_hash
    else:
        same_person = str(data.get("name") or "").strip() == person.name
    if not (same_room and same_person):
        raise IdempotencyConflict()
    return existing


def _register_resident(user, data: dict, key: str | None) -> ResidentRegistration:
    data = {**data, "source": TenancySource.GRID_MANAGER}
    moved = False
    try:
        person = registry_actions.register_person(user, data)
    except registry_actions.DuplicatePerson as exc:
        if exc.existing is None:  # registered out of the worker's reach: not moved, not shown
            raise
        room = resolve_one(registry_queries.rooms(user), data.get("room"), "room",
                           message=_("No room %(r)s in your jurisdiction.") % {"r": data.get("room")})  # fmt: skip
        person = exc.existing
        registry_actions.move_in(user, person, room, moved_in=data.get("moved_in"), source=data["source"],
                                 version=person.version)  # fmt: skip
        moved = True
    person = Person.objects.select_related("residence__building").get(pk=person.pk)
    return ResidentRegistration.objects.create(
        idempotency_key=key or f"u{user.pk}:person-{person.pk}-{timezone.now().timestamp()}",
        registered_by=user,
        person=person,
        room=person.residence,
        moved=moved,
    )


# ---- Inspections ----------------------------------------------------------------------------


@dataclass
class Answer:
    item: str  # the checklist item's code
    value: Any = None
    resolution: str = ""  # for a failed item: "corrected" (with a photo as proof) or "case"
    photo_id: int | None = None
    note: str = ""


@dataclass
class InspectionInput:
    target_kind: str
    target_id: int
    checklist: str
    version: int
    answers: list[Answer]
    started_at: datetime
    finished_at: datetime
    lat: float | None = None
    lng: float | None = None
    accuracy_m: float | None = None
    note: str = ""
    idempotency_key: str = ""


def find_target(user, kind: str, target_id: int):
    """The register row, if the user may see it (None otherwise)."""
    querysets = {
        TargetKind.BUILDING: registry_queries.buildings,
        TargetKind.RENTAL: registry_queries.rentals,
        TargetKind.PLACE: registry_queries.places,
    }
    if kind == TargetKind.SPOT:
        from .adhoc import spot_target

        return spot_target(user, target_id)
    if kind not in querysets:
        return None
    try:
        return resolve_one(querysets[kind](user), target_id, "target_id")
    except ValidationError:
        return None


def target_key(kind: str, target_id: int) -> str:
    return f"{kind}:{target_id}"


def _check_answer(item: ChecklistItem, answer: Answer, user) -> tuple[dict, bool | None, CasePhoto | None]:
    """Errors for one answer (field → message), whether it passed, the proof photo."""
    errors, value, kind = {}, answer.value, item.answer_type
    if value is None or value == "":
        if item.required:
            errors["value"] = _("An answer is needed.")
        return errors, None, None
    if kind == AnswerType.YES_NO and not isinstance(value, bool):
        errors["value"] = _("Answer yes or no (true / false).")
    elif kind == AnswerType.NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        errors["value"] = _("Answer with a number.")
    elif kind == AnswerType.CHOICE and value not in item.choices:
        errors["value"] = _("Choose one of: %(choices)s.") % {"choices": "、".join(map(str, item.choices))}
    elif kind == AnswerType.TEXT and (not isinstance(value, str) or len(value) > 500):
        errors["value"] = _("Answer with a text of at most 500 characters.")
    elif kind == AnswerType.PHOTO and not _own_photo(value, user):
        errors["value"] = _("Unknown photo.")
    if errors or item.is_collection:
        return errors, None, None
    if kind == AnswerType.NUMBER:
        passed = (item.min_value is None or value >= item.min_value) and (
            item.max_value is None or value <= item.max_value
        )
    else:
        passed = value not in item.failing_choices
    photo = None
    if not passed:
        if answer.resolution not in Resolution.values:
            errors["resolution"] = _("A failed item is corrected on site (with a photo) or reported as a case.")
        if answer.photo_id is not None:
            photo = _own_photo(answer.photo_id, user)
            if photo is None:
                errors["photo_id"] = _("Unknown photo.")
        if answer.resolution == Resolution.CORRECTED and answer.photo_id is None:
            errors["photo_id"] = _("A photo of the corrected item is needed as proof.")
    return errors, passed, photo


def _own_photo(photo_id, user) -> CasePhoto | None:
    """The worker's own upload, not yet on a case (the cases app's rule for what a report may bring)."""
    if isinstance(photo_id, bool) or not isinstance(photo_id, int):
        return None
    try:
        return resolve_one(attachable_at_intake(user), photo_id, "photo_id")
    except ValidationError:
        return None


def record_inspection(user, data: InspectionInput) -> tuple[Inspection, bool]:
    """Record an inspection; (inspection, created). Failed items become cases of their matter item or
    are recorded as corrected with proof; the target's open task is done. All or nothing; the same
    idempotency key returns the same inspection."""
    if not (user.is_superuser or user.has_role(Role.GRID_MANAGER)):
        raise PermissionDenied(_("Only field workers record inspections."))
    key = f"u{user.pk}:{data.idempotency_key}" if data.idempotency_key else None  # keys are per account
    if key and (existing := Inspection.objects.filter(idempotency_key=key).first()):
        return _same_inspection(existing, data), False
    target = find_target(user, data.target_kind, data.target_id)
    if target is None:
        raise Http404("no such target in your jurisdiction")
    checklist = Checklist.objects.filter(code=data.checklist, version=data.version).first()
    errors = {}
    if checklist is None:
        errors["checklist"] = [
            _("Unknown checklist %(code)s version %(v)s.") % {"code": data.checklist, "v": data.version}
        ]
    elif checklist.target_kind != data.target_kind:
        errors["checklist"] = [_("This checklist is not for this kind of target.")]
    if data.finished_at < data.started_at:
        errors["finished_at"] = [_("The inspection cannot end before it started.")]
    checked = []
    if checklist is not None:
        items = {i.code: i for i in checklist.items.select_related("matter_item")}
        given = {}
        for answer in data.answers:
            if answer.item not in items:
                errors[f"answers.{answer.item}"] = [_("No such item in this checklist version.")]
            elif answer.item in given:
                errors[f"answers.{answer.item}"] = [_("Answered twice.")]
            else:
                given[answer.item] = answer
        for code, item in items.items():
            answer = given.get(code, Answer(code))
            item_errors, passed, photo = _check_answer(item, answer, user)
            errors.update({f"answers.{code}.{field}": [message] for field, message in item_errors.items()})
            checked.append((item, answer, passed, photo))
    if errors:
        raise ValidationError(errors)

    gps = (
        GpsQuality.MISSING
        if data.lat is None or data.lng is None
        else (
            GpsQuality.POOR
            if data.accuracy_m is None or data.accuracy_m > settings.PATROL_MAX_ACCURACY_M
            else GpsQuality.GOOD
        )
    )
    try:
        with transaction.atomic():
            return _write_inspection(user, data, target, checklist, checked, gps, key), True
    except IntegrityError:
        existing = Inspection.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return _same_inspection(existing, data), False


def _same_inspection(existing: Inspection, data: InspectionInput) -> Inspection:
    """A replay answers with the first inspection only if it is of the same target, checklist and
    time; a key reused for another inspection is refused (409)."""
    same = (
        existing.target_key == target_key(data.target_kind, data.target_id)
        and existing.started_at == data.started_at
        and (existing.checklist.code, existing.checklist.version) == (data.checklist, data.version)
    )
    if not same:
        raise IdempotencyConflict()
    return existing


def _write_inspection(user, data, target, checklist, checked, gps, key) -> Inspection:
    tkey = target_key(data.target_kind, target.pk)
    task = InspectionTask.objects.select_for_update().filter(target_key=tkey, status=TaskStatus.OPEN).first()
    inspection = Inspection.objects.create(
        target_kind=data.target_kind,
        **({} if data.target_kind == TargetKind.SPOT else {data.target_kind: target}),
        target_key=tkey,
        area_path=target.area_path,
        task=task,
        checklist=checklist,
        inspector=user,
        started_at=data.started_at,
        finished_at=data.finished_at,
        lat=data.lat,
        lng=data.lng,
        accuracy_m=data.accuracy_m,
        gps=gps,
        result=InspectionResult.PASSED,
        note=data.note.strip(),
        idempotency_key=key,
    )
    label = str(target)
    results = set()
    for item, answer, passed, photo in checked:
        case = None
        if passed is False and answer.resolution == Resolution.CASE:
            report = Report(
                description=f"{checklist.name}：{item.text}（{label}）{answer.note}".strip(),
                channel=Channel.GRID_MANAGER,
                lat=data.lat if gps != GpsQuality.MISSING else None,
                lng=data.lng if gps != GpsQuality.MISSING else None,
                area_code="" if gps != GpsQuality.MISSING else target.area.code,
                matter_item=item.matter_item.code if item.matter_item_id else "",
                address=label[:200],
                photo_ids=[photo.pk] if photo else [],
                idempotency_key=f"inspection-{inspection.pk}-{item.code}",
            )
            case, _created = report_case(report, user)
            results.add(InspectionResult.CASES)
        elif passed is False:
            results.add(InspectionResult.CORRECTED)
        InspectionAnswer.objects.create(
            inspection=inspection,
            item=item,
            value=answer.value,
            passed=passed,
            resolution=answer.resolution if passed is False else "",
            photo=photo if case is None else None,
            case=case,
            note=answer.note.strip()[:300],
        )
    for result in (InspectionResult.CASES, InspectionResult.CORRECTED):
        if result in results:
            inspection.result = result
            inspection.save(update_fields=["result"])
            break
    if task is not None:
        task.status, task.done_at = TaskStatus.DONE, timezone.now()
        task.save(update_fields=["status", "done_at"])
    record_change(
        inspection,
        ChangeAction.CREATE,
        acting_user=user,
        after={"target": tkey, "checklist": str(checklist), "result": inspection.result, "gps": gps},
    )
    return inspection


@transaction.atomic
def new_checklist_version(checklist: Checklist, *, acting_user=None) -> Checklist:
    """A copy of the checklist with its items as the next version, made current (the old one stays
    for the inspections done with it and for phones that still have it)."""
    latest = Checklist.objects.filter(code=checklist.code).order_by("-version").first()
    new = Checklist.objects.create(
        code=checklist.code, version=latest.version + 1, name=checklist.name, target_kind=checklist.target_kind
    )
    for item in checklist.items.all():
        item.pk, item.checklist = None, new
        item.save()
    Checklist.objects.filter(code=checklist.code).exclude(pk=new.pk).update(is_current=False)
    record_change(new, ChangeAction.CREATE, acting_user=acting_user, after={"code": new.code, "version": new.version})
    return new


# ---- Planning: which targets are due, as tasks for the grid managers ----------------------------


def rule_for(kind: str, target, rules: list[InspectionRule]) -> InspectionRule | None:
    """The most specific active rule for a target."""
    best, best_score = None, -1
    for rule in rules:
        if rule.target_kind != kind:
            continue
        score = 0
        if kind == TargetKind.BUILDING and rule.risk_class is not None:
            if rule.risk_class != target.risk_class:
                continue
            score = 2
        if kind == TargetKind.PLACE:
            if rule.place_type_id is not None:
                if rule.place_type_id != target.place_type_id:
                    continue
                score = 3
            elif rule.three_small_only:
                if not target.place_type.is_three_small:
                    continue
                score = 2
        if score > best_score:
            best, best_score = rule, score
    return best


def plan_inspections(today: date | None = None, *, within: Sequence[str] = ()) -> int:
    """Open a task for every target whose next inspection falls due within the planning horizon and
    that has no open task yet. Safe to run any number of times; returns the number of new tasks.
    within: area paths, to plan only the targets under them (the demo's history plans its grids)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.PATROL_PLAN_HORIZON_DAYS)
    rules = list(InspectionRule.objects.filter(is_active=True))
    last_done = dict(
        Inspection.objects.values("target_key").annotate(last=Max("finished_at")).values_list("target_key", "last")
    )
    open_keys = set(InspectionTask.objects.filter(status=TaskStatus.OPEN).values_list("target_key", flat=True))
    where = reduce(or_, (Q(area_path__startswith=path) for path in within), Q()) if within else Q()
    targets = [
        (TargetKind.BUILDING, Building.objects.filter(where)),
        (TargetKind.RENTAL, RentalHouse.objects.filter(where, status=RentalStatus.ACTIVE).select_related("building")),
        (TargetKind.PLACE, Place.objects.filter(where).select_related("place_type")),
    ]
    new_tasks = []
    for kind, queryset in targets:
        for target in queryset.iterator(chunk_size=2000):
            key = target_key(kind, target.pk)
            if key in open_keys:
                continue
            rule = rule_for(kind, target, rules)
            if rule is None:
                continue
            last = last_done.get(key)
            due = timezone.localtime(last).date() + timedelta(days=rule.every_days) if last else today
            if due > horizon:
                continue
            risk = (
                target.risk_class
                if kind == TargetKind.BUILDING
                else (target.building.risk_class if kind == TargetKind.RENTAL else 2)
            )
            new_tasks.append(
                InspectionTask(
                    target_kind=kind,
                    **{kind: target},
                    target_key=key,
                    area_path=target.area_path,
                    checklist_code=rule.checklist_code,
                    due_date=due,
                    risk_class=risk,
                )
            )
    with transaction.atomic():
        InspectionTask.objects.bulk_create(new_tasks, batch_size=1000, ignore_conflicts=True)
    return len(new_tasks)
