"""Exact search on personal data: the only way to find somebody by a full ID number, passport or
phone, so that it cannot be used to test guesses against a mask.

A search needs the permission privacy.reveal_personal_data or a reason; each one is logged
(PersonalDataAccess, one row per person found, or one "no match" row) and counted against the
user's hourly budget (settings.PRIVACY_EXACT_SEARCHES_PER_HOUR, counted in the database, so every
process shares it). Searches arrive in a POST body; pages and exports then refer to the stored
search by its token, which holds only the keyed hash, never the number.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.history.context import current_request_id

from .actions import REASON_MAX, may_reveal
from .models import ExactSearch, PersonalDataAccess
from .revealable import spec_for, type_label

LOGGED_MATCHES = 20  # a search that finds more logs this many people (exact values rarely repeat)


class BudgetExhausted(Exception):
    """Too many exact searches in the last hour; retry_after in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(_("Too many exact searches: try again in %(m)d minutes.") % {"m": max(1, retry_after // 60)})
        self.retry_after = retry_after


def _hash_field(model, field: str) -> str:
    spec = spec_for(model)
    hash_field = spec.fields[field].hash_field if spec and field in spec.fields else ""
    if not hash_field:
        raise ValidationError({"value": _("This kind of value cannot be searched.")})
    return hash_field


def exact_search(user, model, field: str, value_hash: str, reason: str = "", *, ip: str | None = None):
    """(the stored search, the matching rows the user may see). Raises ValidationError (a reason is
    needed without the permission) or BudgetExhausted; every search, found or not, is logged."""
    hash_field = _hash_field(model, field)
    reason = (reason or "").strip()
    if not reason and not may_reveal(user):
        raise ValidationError({"reason": _("Say why you search by this number: the search is logged.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": REASON_MAX}})
    with transaction.atomic():
        # One search at a time per user (the lock on the user's row), so the budget holds under races.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        now = timezone.now()
        recent = ExactSearch.objects.filter(user=user, time__gt=now - timedelta(hours=1))
        if recent.count() >= settings.PRIVACY_EXACT_SEARCHES_PER_HOUR:
            oldest = recent.order_by("time").values_list("time", flat=True).first()
            raise BudgetExhausted(int((oldest + timedelta(hours=1) - now).total_seconds()) + 1)
        rows = spec_for(model).visible(user).filter(**{hash_field: value_hash})
        found = list(rows[: LOGGED_MATCHES + 1])
        search = ExactSearch.objects.create(
            user=user,
            target=type_label(model),
            field=field,
            value_hash=value_hash,
            reason=reason,
            found=len(found),
            time=now,
        )
        _log(user, model, field, reason, found[:LOGGED_MATCHES], ip)
    return search, rows


def _log(user, model, field, reason, found, ip):
    kind = ContentType.objects.get_for_model(model)
    common = {
        "user": user,
        "user_name": user.get_username(),
        "object_type": kind,
        "field": f"search:{field}",
        "reason": reason or _("exact search (with the permission)"),
        "request_id": current_request_id(),
        "ip": ip or None,
    }
    if not found:
        PersonalDataAccess.objects.create(object_id="", object_repr=_("(no match)"), **common)
    for obj in found:
        PersonalDataAccess.objects.create(object_id=str(obj.pk), object_repr=str(obj)[:200], **common)


def stored(user, token: str, model) -> ExactSearch | None:
    """The user's own recent search by its token (None when unknown, someone else's or expired)."""
    try:
        keep = timezone.now() - timedelta(hours=settings.PRIVACY_EXACT_SEARCH_KEEP_HOURS)
        return ExactSearch.objects.filter(
            token=token, user_id=getattr(user, "pk", None), target=type_label(model), time__gt=keep
        ).first()
    except ValidationError:  # not a UUID
        return None


def apply(queryset, search: ExactSearch | None):
    """The queryset narrowed to a stored search (nothing when the search is gone)."""
    if search is None:
        return queryset.none()
    return queryset.filter(**{_hash_field(queryset.model, search.field): search.value_hash})
