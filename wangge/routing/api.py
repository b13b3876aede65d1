"""Routing through the API: suggestions for a text (POST /api/v1/cases/suggest, staff only), the
versions (/api/v1/routing/models: list, train, serve — administrators) and undoing an automatic
dispatch (/api/v1/routing/cases/{id}/undo). Same actions and scope as the pages."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from wangge.cases import queries
from wangge.core.apitypes import Id, errors

from . import actions
from .models import RoutingModel
from .suggest import suggest

router = Router(tags=["routing"])
suggest_router = Router(tags=["routing"])


def _staff(request):
    if request.user.is_personal:
        raise PermissionDenied(_("Suggestions are for command-center staff."))


class SuggestIn(Schema):
    description: str | None = None
    lat: float | None = None
    lng: float | None = None
    limit: int = 5


class SuggestionOut(Schema):
    category: str | None
    category_name: str
    matter_item: str | None
    matter_item_name: str | None
    department: str | None
    department_name: str | None
    score: float


class SuggestOut(Schema):
    suggestions: list[SuggestionOut]
    model_version: int | None


@suggest_router.post("/suggest", response={200: SuggestOut, **errors(400, 403)})
def suggest_view(request, payload: SuggestIn):
    """The routing model's best categories, matter items and departments for a description (place
    optional), best first, each with the model's confidence (0–1)."""
    _staff(request)
    found, version = suggest(payload.description, payload.lat, payload.lng, k=payload.limit)
    return {"suggestions": found, "model_version": version}


class ModelOut(Schema):
    version: int
    status: str
    status_label: str
    created_at: datetime
    reason: str
    shipped_examples: int
    platform_examples: int
    label_count: int
    train_seconds: float | None
    metrics: dict
    error: str
    activated_at: datetime | None


def _model_out(record: RoutingModel) -> dict:
    fields = ModelOut.model_fields.keys() - {"status_label"}
    return {**{f: getattr(record, f) for f in fields}, "status_label": record.get_status_display()}


class TrainIn(Schema):
    reason: str = ""


@router.get("/models", response={200: list[ModelOut], **errors(403)})
def models(request):
    actions.require_admin(request.user)
    return [_model_out(r) for r in RoutingModel.objects.defer("artifact")]


@router.post("/models", response={202: ModelOut, **errors(400, 403)})
def train(request, payload: TrainIn):
    """Train a new version now (the worker does it; it serves when it is not worse)."""
    from .tasks import train_task

    record = actions.start_training(request.user, payload.reason)
    train_task(record.pk)
    record.refresh_from_db()
    return Status(202, _model_out(record))


@router.post("/models/{version}/serve", response={200: ModelOut, **errors(400, 403, 404)})
def serve(request, version: int):
    """Serve this version (a rollback, or a version that was held back)."""
    actions.require_admin(request.user)
    record = get_object_or_404(RoutingModel.objects.defer("artifact"), version=version)
    return _model_out(actions.activate(request.user, record))


class UndoIn(Schema):
    version: int
    note: str = ""


class UndoOut(Schema):
    id: int
    status: str
    version: int


@router.post("/cases/{case_id}/undo", response={200: UndoOut, **errors(400, 403, 404, 409)})
def undo(request, case_id: Id, payload: UndoIn):
    """Take back an automatic dispatch: the case waits for a dispatcher again."""
    case = get_object_or_404(queries.case_list(request.user), pk=case_id)
    case = actions.undo_auto_route(request.user, case, version=payload.version, note=payload.note)
    return {"id": case.pk, "status": case.status, "version": case.version}
