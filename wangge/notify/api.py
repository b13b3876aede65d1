"""/api/v1/notifications: the caller's in-app notifications."""

from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from wangge.core.apitypes import Id

from . import actions

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    subject: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None
    is_read: bool


class ReadIn(Schema):
    ids: list[Id] | None = None


class ReadOut(Schema):
    marked: int
    unread: int


@router.get("", response=list[NotificationOut])
@paginate
def list_notifications(request):
    """Your in-app notifications, newest first."""
    return actions.inbox(request.user)


@router.post("/read", response=ReadOut)
def mark_read(request, payload: ReadIn):
    """Mark your notifications read: these ids, or all with "ids": null."""
    marked = actions.mark_read(request.user, payload.ids)
    return {"marked": marked, "unread": actions.unread_count(request.user)}
