"""吹哨报到 in the JSON API (/api/v1/summons): the summonses a user sees, a new one, a department's
arrival report from a phone, closing. Same actions and scope as the pages; fields are taken loosely
and checked by the action, so bad input is a 400 naming the field."""

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from wangge.core.apitypes import Id, errors

from . import actions, queries
from .models import Arrival, SummonedDepartment, Summons
from .views import TABS

router = Router(tags=["summons"])


class SummonedDepartmentOut(Schema):
    code: str
    name: str
    notified_at: datetime
    state: str = Field(description="waiting, arrived (on time), late (arrived after the deadline), absent")
    overdue: bool = Field(description="still waiting past the deadline")
    arrived_at: datetime | None
    distance_m: float | None


class SummonsOut(Schema):
    id: int
    case: int | None
    reason: str
    lat: float
    lng: float
    address: str
    area: str
    created_at: datetime
    arrive_by: datetime
    radius_m: int
    status: str
    closed_at: datetime | None
    departments: list[SummonedDepartmentOut]


class SummonsIn(Schema):
    departments: Any = Field(None, description="department codes (at least one)")
    case: Any = Field(None, description="the case's id, if the summons is for a case")
    lat: Any = Field(None, description="WGS-84; default: the case's point")
    lng: Any = None
    address: str = ""
    reason: str = Field("", description="required without a case")
    arrive_by: Any = Field(None, description="ISO time, in the future; or minutes; default by severity")
    minutes: Any = None
    severity: Any = Field(None, description="normal, important or urgent: the default deadline")


class ArrivalIn(Schema):
    lat: Any = Field(None, description="WGS-84 fix; none: recorded as no fix")
    lng: Any = None
    accuracy: Any = Field(None, description="the fix's accuracy in metres (none: a poor fix)")


class ArrivalOut(Schema):
    id: int
    department: str
    at: datetime
    distance_m: float | None
    accuracy_m: float | None
    counted: bool = Field(description="a good fix: the department's arrival (or it had arrived already)")
    flags: list[str] = Field(description="late, too_far, poor_fix, no_fix")


class ArrivalReportOut(Schema):
    arrivals: list[ArrivalOut]
    summons: SummonsOut


def _department_out(row: SummonedDepartment) -> dict:
    return {
        "code": row.department.code,
        "name": row.department.name,
        "notified_at": row.notified_at,
        "state": row.state,
        "overdue": row.overdue,
        "arrived_at": row.arrived_at,
        "distance_m": row.distance_m,
    }


def summons_out(s: Summons) -> dict:
    fields = ("id", "reason", "lat", "lng", "address", "created_at", "arrive_by", "radius_m", "status", "closed_at")
    rows = s.departments.all()  # prefetched by the list (with the department), ordered by id
    return {
        **{f: getattr(s, f) for f in fields},
        "case": s.case_id,
        "area": s.area.code,
        "departments": [_department_out(r) for r in rows],
    }


def _arrival_out(a: Arrival) -> dict:
    return {
        "id": a.pk,
        "department": a.summoned.department.code,
        "at": a.at,
        "distance_m": a.distance_m,
        "accuracy_m": a.accuracy_m,
        "counted": a.counts,
        "flags": a.flags,
    }


@router.get("", response={200: list[SummonsOut], **errors(403)}, summary="Summonses you may see (newest 500)")
def list_summonses(request, show: str = "open"):
    show = show if show in TABS else "open"
    return [
        summons_out(s)
        for s in queries.filter_list(queries.visible(request.user), show, request.user, timezone.now())
        .prefetch_related("departments__department")
        .order_by("-created_at", "-id")[:500]
    ]


@router.post("", response={201: SummonsOut, **errors(400, 403)}, summary="Summon departments to a place")
def create_summons(request, payload: SummonsIn):
    summons = actions.summon(request.user, **payload.dict())
    return Status(201, summons_out(summons))


@router.get("/{summons_id}", response={200: SummonsOut, **errors(404)}, summary="One summons")
def get_summons(request, summons_id: Id):
    return summons_out(get_object_or_404(queries.visible(request.user), pk=summons_id))


@router.post(
    "/{summons_id}/arrivals",
    response={201: ArrivalReportOut, **errors(400, 403, 404)},
    summary="Report arrival on site (a department's staff)",
)
def report_arrival(request, summons_id: Id, payload: ArrivalIn):
    summons = get_object_or_404(queries.visible(request.user), pk=summons_id)
    arrivals = actions.report_arrival(request.user, summons, **payload.dict())
    summons.refresh_from_db()
    return Status(201, {"arrivals": [_arrival_out(a) for a in arrivals], "summons": summons_out(summons)})


@router.post("/{summons_id}/close", response={200: SummonsOut, **errors(400, 403, 404)}, summary="Close a summons")
def close_summons(request, summons_id: Id):
    summons = get_object_or_404(queries.visible(request.user), pk=summons_id)
    return summons_out(actions.close_summons(request.user, summons))
