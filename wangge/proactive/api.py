"""未诉先办 in the JSON API: turn a recurring spot into proactive work, and the work of your areas
with its effect. Fields are taken loosely and checked by the action (400 naming the field)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from wangge.accounts.scope import scope_for
from wangge.core.apitypes import Id, errors
from wangge.insight import access

from . import actions, queries
from .models import ProactiveWork

router = Router(tags=["proactive work"])


class SpotIn(Schema):
    category: Any = Field(
        None, description='the category\'s code, "event:0102" or "part:0305" (as the spots list gives)'
    )
    lat: Any = Field(None, description="the spot's centre (WGS-84)")
    lng: Any = None
    radius_m: Any = Field(None, description="metres (10–2000; default the spots list's radius)")
    days: Any = Field(None, description="the window the spot's reports are counted in (1–365; default the list's)")
    kind: Any = Field("", description='"case": a case registered by the command center; "task": a spot check')
    note: Any = ""


def work_out(work: ProactiveWork) -> dict:
    return {
        "id": work.pk,
        "category": f"{work.category.kind}:{work.category.code}",
        "category_name": work.category.name,
        "lat": work.lat,
        "lng": work.lng,
        "radius_m": work.radius_m,
        "days": work.days,
        "area": work.area.code,
        "area_name": work.area.name,
        "kind": work.kind,
        "case": work.case_id,
        "case_number": work.case.number if work.case_id else None,
        "case_status": work.case.status if work.case_id else None,
        "task": work.task_id,
        "task_status": work.task.status if work.task_id else None,
        "open": work.is_open,
        "note": work.note,
        "created_by": work.created_by.username if work.created_by_id else None,
        "rule": work.rule_id,
        "created_at": work.created_at.isoformat(),
        "cases_at_action": work.cases_at_action,
        "spot_cases": work.spot_case_ids,
        "effect": queries.effect(work),
    }


def _area(user, code: str):
    try:
        return access.area_for(user, code)
    except PermissionDenied:
        raise HttpError(403, "proactive work is for the command center") from None


@router.post("", response={201: dict, 409: dict, **errors(400, 403, 404)}, summary="Turn a recurring spot into work")
def act(request, payload: SpotIn):
    """A case registered by the command center (channel proactive) or a spot check for the grid's
    managers. A spot whose work is still open: 409 naming that work (nothing new is made)."""
    if not isinstance(payload.note, str):
        payload.note = str(payload.note)
    try:
        work = actions.act_on_spot(request.user, **payload.dict())
    except actions.AlreadyActedOn as exc:
        # The spot is physical, so another jurisdiction's open work there blocks it too; its details
        # are told only to those who may see that work.
        shown = work_out(exc.work) if scope_for(request.user).covers_path(exc.work.area_path) else None
        return Status(409, {"detail": str(exc), "work": shown})
    return Status(201, work_out(work))


@router.get("", response={200: dict, **errors(403, 404)}, summary="Proactive work of your areas")
def list_works(request, area: str = "", kind: str = "", state: str = "", limit: int = 100):
    """Newest first; state "open" or "done"; each with its effect (reports before vs since, per day)."""
    chosen = _area(request.user, area)
    rows = queries.works(chosen, kind=kind, state=state)
    return {"count": rows.count(), "items": [work_out(w) for w in rows[: max(1, min(limit, 500))]]}


@router.get("/{work_id}", response={200: dict, **errors(403, 404)}, summary="One proactive work")
def get_work(request, work_id: Id):
    roots = access.command_areas(request.user)
    if not roots:
        raise HttpError(403, "proactive work is for the command center")
    work = ProactiveWork.objects.select_related("category", "area", "case", "task", "created_by").filter(pk=work_id)
    work = work.first()
    if work is None or not any(work.area_path.startswith(r.path) for r in roots):
        raise Http404
    return work_out(work)
