"""Field work in the JSON API: positions and tracks, inspection tasks, checklists, inspections."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel

from wangge.areas.coords import distance_m
from wangge.core.apitypes import Days, Id, errors
from wangge.registry import queries as registry_queries

from . import actions, tracks
from .models import (
    Checklist,
    Inspection,
    InspectionRule,
    InspectionTask,
    TargetKind,
    TaskStatus,
    TrackDay,
    WorkerPosition,
)
from .queries import checklist_names, inspections_for, tasks_for, visible_workers, worker_areas

router = Router(tags=["field work"])


# Plain pydantic models, not ninja Schemas: a Schema wraps the validation of every point to read
# Django objects, which this body never holds (0.12 ms of a batch's parsing, now 0.02 ms).
class PointIn(BaseModel):
    at: datetime = Field(description="when the fix was taken, ISO 8601 with offset")
    lat: float = Field(description="WGS-84")
    lng: float = Field(description="WGS-84")
    accuracy_m: float | None = Field(None, description="the phone's reported accuracy; missing = unknown (flagged)")


class PositionsIn(BaseModel):
    points: list[PointIn] = Field(..., max_length=settings.PATROL_MAX_BATCH)


class RecordedOut(Schema):
    accepted: int
    duplicates: int
    flagged: int


@router.post("/positions", response={200: RecordedOut, **errors(400, 403)})
def send_positions(request, payload: PositionsIn):
    """A batch of the worker's own GPS points (all stored, or none with every bad point named).
    Sending the same batch again is harmless: points are kept one per second."""
    positions = [actions.Position(p.at, p.lat, p.lng, p.accuracy_m) for p in payload.points]
    return actions.record_positions(request.user, positions).__dict__


class PositionOut(Schema):
    username: str
    name: str
    lat: float
    lng: float
    accuracy_m: float | None
    at: datetime
    on_duty: bool


@router.get("/positions", response=list[PositionOut])
def last_positions(request):
    """The last known position of every field worker the user supervises."""
    recent = timezone.now() - timedelta(minutes=settings.PATROL_ON_DUTY_MINUTES)
    rows = WorkerPosition.objects.filter(worker__in=visible_workers(request.user)).select_related("worker")
    return [
        {
            "username": p.worker.username,
            "name": str(p.worker),
            "lat": p.lat,
            "lng": p.lng,
            "accuracy_m": p.accuracy_m,
            "at": p.at,
            "on_duty": p.at >= recent,
        }
        for p in rows
    ]


class TrackOut(Schema):
    username: str
    name: str
    day: date
    figures: dict
    points: list[list] = Field(description="[time, lat, lng, accuracy_m or null, good fix]")
    grids: dict = Field(description="GeoJSON FeatureCollection of the worker's assigned areas")


@router.get("/tracks/{username}/{day}", response={200: TrackOut, **errors(404)})
def worker_track(request, username: str, day: date):
    """A worker's track for one day, for playback on the map."""
    worker = get_object_or_404(visible_workers(request.user), username=username)
    return track_data(worker, day)


def track_data(worker, day: date) -> dict:
    row = TrackDay.objects.filter(worker=worker, day=day).first()
    points = tracks.unpack(row.points) if row else tracks.unpack(b"")
    midnight = timezone.make_aware(datetime.combine(day, time()))
    return {
        "username": worker.username,
        "name": str(worker),
        "day": day,
        "figures": figures_of(row),
        "points": [
            [
                (midnight + timedelta(seconds=int(p["t"]))).isoformat(),
                p["lat"] / tracks.SCALE,
                p["lng"] / tracks.SCALE,
                None if p["acc"] == tracks.NO_ACCURACY else int(p["acc"]),
                bool(p["acc"] <= settings.PATROL_MAX_ACCURACY_M),
            ]
            for p in points
        ],
        "grids": {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": a.boundary, "properties": {"code": a.code, "name": a.name}}
                for a in worker_areas(worker)
                if a.boundary
            ],
        },
    }


def figures_of(row: TrackDay | None) -> dict:
    if row is None:
        return {
            "points": 0, "flagged": 0, "distance_km": 0, "hours_on_duty": 0, "hours_in_grid": 0, "share_in_grid": 0,
            "buildings_passed": 0,
        }  # fmt: skip
    return {
        "points": row.point_count,
        "flagged": row.flagged_count,
        "distance_km": round(row.distance_m / 1000, 2),
        "hours_on_duty": round(row.seconds_on_duty / 3600, 2),
        "hours_in_grid": round(row.seconds_in_grid / 3600, 2),
        "share_in_grid": round(row.seconds_in_grid / row.seconds_on_duty, 3) if row.seconds_on_duty else 0,
        "buildings_passed": row.buildings_passed,
    }


# ---- Inspections ----------------------------------------------------------------------------


class ItemOut(Schema):
    code: str
    text: str
    answer_type: str
    choices: list
    failing_choices: list
    min_value: float | None
    max_value: float | None
    required: bool
    is_collection: bool
    leads_to_case: bool


class ChecklistOut(Schema):
    code: str
    version: int
    name: str
    target_kind: str
    items: list[ItemOut]


def checklist_out(checklist: Checklist) -> dict:
    return {
        "code": checklist.code,
        "version": checklist.version,
        "name": checklist.name,
        "target_kind": checklist.target_kind,
        "items": [
            {
                "code": i.code,
                "text": i.text,
                "answer_type": i.answer_type,
                "choices": i.choices,
                "failing_choices": i.failing_choices,
                "min_value": i.min_value,
                "max_value": i.max_value,
                "required": i.required,
                "is_collection": i.is_collection,
                "leads_to_case": i.matter_item_id is not None,
            }
            for i in checklist.items.all()
        ],
    }


@router.get("/checklists/{code}", response={200: ChecklistOut, **errors(404)})
def current_checklist(request, code: str):
    """The current version of a checklist (an older version is still accepted when sent)."""
    return checklist_out(get_object_or_404(Checklist, code=code, is_current=True))


class TargetOut(Schema):
    kind: str
    id: int
    label: str
    checklist: str | None = Field(description="the checklist its inspection rule names, if any")
    last_inspected: datetime | None
    open_task_due: date | None


def target_out(kind: str, target) -> dict:
    rules = list(InspectionRule.objects.filter(is_active=True))
    rule = actions.rule_for(kind, target, rules)
    key = actions.target_key(kind, target.pk)
    last = Inspection.objects.filter(target_key=key).order_by("-finished_at").values_list("finished_at", flat=True)
    task = InspectionTask.objects.filter(target_key=key, status=TaskStatus.OPEN).first()
    return {
        "kind": kind,
        "id": target.pk,
        "label": str(target),
        "checklist": rule.checklist_code if rule else None,
        "last_inspected": last.first(),
        "open_task_due": task.due_date if task else None,
    }


@router.get("/targets/by-qr/{token}", response={200: list[TargetOut], **errors(404)})
def targets_by_qr(request, token: str):
    """What can be inspected behind a door plate: the building, its rental houses and its places."""
    building = registry_queries.buildings(request.user).filter(qr_token=token).first()
    if building is None:
        raise Http404("unknown code")
    targets = [target_out(TargetKind.BUILDING, building)]
    targets += [
        target_out(TargetKind.RENTAL, r) for r in registry_queries.rentals(request.user).filter(building=building)
    ]
    targets += [
        target_out(TargetKind.PLACE, p) for p in registry_queries.places(request.user).filter(building=building)
    ]
    return targets


class TaskOut(Schema):
    id: int
    target_kind: str
    target_id: int
    target_label: str
    checklist: str
    checklist_name: str = Field(description="the checklist's name, as shown to the worker")
    due_date: date
    overdue: bool
    risk_class: int = Field(description="as the building's: 3 = 三级（高）, the highest")
    risk_label: str
    lat: float | None
    lng: float | None
    distance_m: float | None = Field(description="from the lat/lng asked with, when given and the target has a point")


def task_out(task: InspectionTask, today: date, checklist_names: dict, near: tuple | None = None) -> dict:
    target = task.target
    point = target.building if task.target_kind == TargetKind.RENTAL else target
    lat, lng = getattr(point, "lat", None), getattr(point, "lng", None)
    return {
        "id": task.pk,
        "target_kind": task.target_kind,
        "target_id": target.pk,
        "target_label": str(target),
        "checklist": task.checklist_code,
        "checklist_name": checklist_names.get(task.checklist_code, task.checklist_code),
        "due_date": task.due_date,
        "overdue": task.due_date < today,
        "risk_class": task.risk_class,
        "risk_label": task.get_risk_class_display(),
        "lat": lat,
        "lng": lng,
        "distance_m": round(float(distance_m(near[1], near[0], lng, lat)), 1) if near and lat is not None else None,
    }


@router.get("/tasks", response=list[TaskOut])
@paginate
def my_tasks(
    request,
    due_within_days: Days = 7,
    lat: float | None = Query(None, ge=-90, le=90, description="the phone's position (WGS-84), for distance_m"),
    lng: float | None = Query(None, ge=-180, le=180),
):
    """Open inspection tasks in the user's areas: the highest risk class first, then by due date,
    then (with lat/lng) the nearest first."""
    today = timezone.localdate()
    tasks = tasks_for(request.user).filter(due_date__lte=today + timedelta(days=due_within_days))
    names = checklist_names()
    near = (lat, lng) if lat is not None and lng is not None else None
    rows = [task_out(t, today, names, near) for t in tasks]
    if near:
        far = float("inf")
        rows.sort(key=lambda r: (-r["risk_class"], r["due_date"], far if r["distance_m"] is None else r["distance_m"]))
    return rows


class AnswerIn(Schema):
    item: str
    value: bool | float | int | str | None = None
    resolution: str = ""
    photo_id: Id | None = None
    note: str = ""


class InspectionIn(Schema):
    target_kind: str
    target_id: Id
    checklist: str
    version: int
    answers: list[AnswerIn]
    started_at: datetime
    finished_at: datetime
    lat: float | None = None
    lng: float | None = None
    accuracy_m: float | None = None
    note: str = ""


class AnswerOut(Schema):
    item: str
    text: str
    value: bool | float | int | str | None
    passed: bool | None
    resolution: str
    case_id: int | None
    case_number: str | None


class InspectionOut(Schema):
    id: int
    target_kind: str
    target_id: int
    target_label: str
    checklist: str
    version: int
    inspector: str
    started_at: datetime
    finished_at: datetime
    gps: str
    result: str
    answers: list[AnswerOut]


def inspection_out(inspection: Inspection) -> dict:
    return {
        "id": inspection.pk,
        "target_kind": inspection.target_kind,
        "target_id": inspection.target.pk,
        "target_label": str(inspection.target),
        "checklist": inspection.checklist.code,
        "version": inspection.checklist.version,
        "inspector": str(inspection.inspector),
        "started_at": inspection.started_at,
        "finished_at": inspection.finished_at,
        "gps": inspection.gps,
        "result": inspection.result,
        "answers": [
            {
                "item": a.item.code,
                "text": a.item.text,
                "value": a.value,
                "passed": a.passed,
                "resolution": a.resolution,
                "case_id": a.case_id,
                "case_number": a.case.number if a.case_id else None,
            }
            for a in inspection.answers.select_related("item", "case")
        ],
    }


@router.post(
    "/inspections",
    response={201: InspectionOut, 200: InspectionOut, **errors(400, 403, 404)},
    summary="Record an inspection (Idempotency-Key honoured)",
)
def create_inspection(request, payload: InspectionIn):
    data = payload.dict()
    data["answers"] = [actions.Answer(**a) for a in data["answers"]]
    inspection, created = actions.record_inspection(
        request.user, actions.InspectionInput(**data, idempotency_key=request.headers.get("Idempotency-Key", ""))
    )
    return Status(201 if created else 200, inspection_out(inspection))


@router.get("/inspections", response=list[InspectionOut])
@paginate
def list_inspections(request, target_kind: str = "", target_id: Id | None = None):
    """Inspections in the user's areas, newest first; of one target with target_kind and target_id."""
    inspections = inspections_for(request.user).select_related("checklist", "inspector", "building", "rental", "place")
    if target_kind and target_id is not None:
        inspections = inspections.filter(target_key=actions.target_key(target_kind, target_id))
    return [inspection_out(i) for i in inspections]


@router.get("/inspections/{int:inspection_id}", response={200: InspectionOut, **errors(404)})
def get_inspection(request, inspection_id: int):
    return inspection_out(get_object_or_404(inspections_for(request.user), pk=inspection_id))


# ---- Residents and tenants registered from the field app -------------------------------------


class ResidentIn(Schema):
    name: str = ""
    person_type: str = Field(description="registered, floating or overseas")
    id_number: str = ""
    passport: str = ""
    nationality: str = ""
    phone: str = ""
    room: Id | None = Field(None, description="the room they move into (a room of a building in the worker's grid)")
    moved_in: date | None = None


class ResidentOut(Schema):
    person_id: int
    name: str
    id_number: str = Field(description="masked")
    room_id: int
    room: str
    moved: bool = Field(description="already in the register: recorded as moving in")


@router.post(
    "/residents",
    response={201: ResidentOut, 200: ResidentOut, **errors(400, 403)},
    summary="Register a resident or tenant moving into a room (Idempotency-Key honoured)",
)
def register_resident(request, payload: ResidentIn):
    """Through the registry's actions: a new person with the room as residence, or, when the ID or
    passport number is already registered (and visible to the worker), that person moving in.
    Errors name the field (id_number, phone, room…)."""
    data = {k: v for k, v in payload.dict().items() if v not in ("", None)}
    registration, created = actions.register_resident(
        request.user, data, idempotency_key=request.headers.get("Idempotency-Key", "")
    )
    person = registration.person
    body = {
        "person_id": person.pk,
        "name": person.name,
        "id_number": person.id_number_masked or person.passport_masked,
        "room_id": registration.room_id,
        "room": str(registration.room),
        "moved": registration.moved,
    }
    return Status(201 if created else 200, body)
