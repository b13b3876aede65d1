from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from wangge.accounts.scope import restrict
from wangge.core.apitypes import ErrorOut, ValidationErrorOut, errors
from wangge.history.actions import history_for

from .locate import OutsideCity, locate
from .models import Area

router = Router(tags=["areas"])


class AreaOut(Schema):
    code: str
    name: str
    official_name: str
    level: str
    parent_code: str | None
    path: str
    centroid_lat: float | None
    centroid_lng: float | None
    bbox: list[float] | None
    boundary_generated: bool

    @staticmethod
    def resolve_parent_code(obj):
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_bbox(obj):
        return [obj.min_lng, obj.min_lat, obj.max_lng, obj.max_lat] if obj.min_lng is not None else None


class AreaDetailOut(AreaOut):
    boundary: dict | None


class AreaFilter(Schema):
    parent: str | None = None
    level: str | None = None
    q: str | None = None


@router.get("", response=list[AreaOut])
@paginate
def list_areas(request, filters: Query[AreaFilter]):
    """Areas in the caller's jurisdiction; filter by parent code, level, or part of the name or code."""
    qs = restrict(Area.objects.select_related("parent"), request.user)
    if filters.parent:
        qs = qs.filter(parent__code=filters.parent)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.q:
        qs = qs.filter(name__contains=filters.q) | qs.filter(code__startswith=filters.q)
    return qs


class LocateOut(Schema):
    code: str
    name: str
    level: str
    path: str


@router.get("/locate", response={200: LocateOut, 422: ErrorOut | ValidationErrorOut})
def locate_point(request, lat: float, lng: float):
    """The leaf area (grid, or the deepest area drawn) holding a WGS-84 point; 422 with a detail
    text when the point lies outside the city."""
    try:
        found = locate(lat, lng)
    except OutsideCity as exc:
        return Status(422, {"detail": str(exc)})
    return Status(200, {"code": found.code, "name": found.name, "level": found.level, "path": found.path})


@router.get("/{code}", response={200: AreaDetailOut, **errors(404)})
def area_detail(request, code: str):
    return get_object_or_404(restrict(Area.objects.select_related("parent"), request.user), code=code)


class ChangeOut(Schema):
    time: str
    user: str
    source: str
    action: str
    object: str
    changes: list[list]


@router.get("/{code}/history", response={200: list[ChangeOut], **errors(404)})
def area_history(request, code: str):
    area = get_object_or_404(restrict(Area.objects.all(), request.user), code=code)
    return [
        {
            "time": r.time.isoformat(),
            "user": r.user_name,
            "source": r.source,
            "action": r.action,
            "object": r.object_repr,
            "changes": [list(c) for c in r.changed_fields()],
        }
        for r in history_for(area)[:200]
    ]
