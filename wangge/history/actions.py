"""The one way to append a change record. Called by every domain action, inside its transaction."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .context import current_request_id, current_source
from .models import ChangeAction, ChangeRecord


def snapshot(obj: models.Model) -> dict:
    """A JSON-safe picture of an object's fields, as the model chooses to show it in history."""
    if hasattr(obj, "history_snapshot"):
        return obj.history_snapshot()
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"password"}:
            continue
        value = field.value_from_object(obj)
        data[field.name] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
    return data


def record_change(
    obj: models.Model,
    action: ChangeAction,
    *,
    acting_user=None,
    before: dict | None = None,
    after: dict | None = None,
    related: models.Model | None = None,
) -> ChangeRecord | None:
    """Append one change record; an update that changed nothing appends nothing."""
    if action == ChangeAction.UPDATE and before == after:
        return None
    user = acting_user if acting_user is not None and acting_user.is_authenticated else None
    return ChangeRecord.objects.create(
        user=user,
        user_name=user.get_username() if user else "",
        source=current_source(),
        request_id=current_request_id(),
        action=action,
        object_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        related_type=ContentType.objects.get_for_model(related) if related is not None else None,
        related_id=str(related.pk) if related is not None else "",
        before=before,
        after=after,
    )


def record_changes(
    changes: list[tuple[models.Model, ChangeAction, dict | None, dict | None]], *, acting_user=None
) -> list[ChangeRecord]:
    """record_change() for many objects at once (bulk actions, imports): (obj, action, before, after)
    each; updates that changed nothing are skipped. One INSERT per 500 records."""
    user = acting_user if acting_user is not None and acting_user.is_authenticated else None
    source, request_id = current_source(), current_request_id()
    records = [
        ChangeRecord(
            user=user,
            user_name=user.get_username() if user else "",
            source=source,
            request_id=request_id,
            action=action,
            object_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            before=before,
            after=after,
        )
        for obj, action, before, after in changes
        if not (action == ChangeAction.UPDATE and before == after)
    ]
    return ChangeRecord.objects.bulk_create(records, batch_size=500)


def history_for(obj: models.Model):
    """Change records of an object and of its children that point to it as related."""
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return ChangeRecord.objects.filter(
        models.Q(object_type=ct, object_id=str(obj.pk)) | models.Q(related_type=ct, related_id=str(obj.pk))
    ).select_related("object_type")
