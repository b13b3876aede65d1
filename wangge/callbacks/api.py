"""Callbacks in the JSON API: the open callbacks of your area (oldest due first) and a call's result.
Fields are taken loosely and checked by the action, so bad input is a 400 naming the field."""

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from wangge.core.apitypes import errors

from . import actions, queries
from .models import CallbackTask

router = Router(tags=["callbacks"])


class CallbackOut(Schema):
    id: int
    case: int
    case_number: str | None
    state: str
    result: str
    due_at: datetime
    overdue: bool
    attempts: int
    next_try_at: datetime | None
    resolved: bool | None
    satisfaction: int | None
    reopened: bool


class ResultIn(Schema):
    reached: Any = Field(None, description="true: the citizen answered; false: one attempt counted, tried again later")
    resolved: Any = Field(None, description="when reached: resolved per the citizen")
    satisfaction: Any = Field(None, description="when reached: 1–5")
    note: str = Field("", description="the citizen's words (the reason when the case is reopened)")
    reopen: Any = Field(False, description="when not resolved: reopen the case (within the configured days)")


def callback_out(t: CallbackTask) -> dict:
    fields = ("id", "state", "result", "due_at", "attempts", "next_try_at", "resolved", "satisfaction", "reopened")
    return {
        **{f: getattr(t, f) for f in fields},
        "case": t.case_id,
        "case_number": t.case.number,
        "overdue": t.overdue_at is not None,
    }


@router.get("", response={200: list[CallbackOut], **errors(403)}, summary="Open callbacks of your area")
def list_callbacks(request, state: str = "open"):
    ready, later = queries.queue(request.user)
    if state == "open":
        rows = list(ready) + list(later)
    else:
        rows = queries.callbacks(request.user).filter(state=state).order_by("-done_at")[:500]
    return [callback_out(t) for t in rows]


@router.post(
    "/{callback_id}/result", response={200: CallbackOut, **errors(400, 403, 404)}, summary="Record a call's result"
)
def record_result(request, callback_id: int, payload: ResultIn):
    task = get_object_or_404(queries.callbacks(request.user), pk=callback_id)
    task = actions.record_result(task.pk, request.user, **payload.dict())
    return callback_out(task)
