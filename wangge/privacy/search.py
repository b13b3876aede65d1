"""Exact search on personal data: the only way to find somebody by a full ID number, passport or
phone, so that it cannot be used to test guesses against a mask.

A search needs the permission privacy.reveal_personal_data or a reason; each one is logged
(PersonalDataAccess, one row per person found, or one "no match" row) and counted against the
user's hourly budget (settings.PRIVACY_EXACT_SEARCHES_PER_HOUR, counted in the database, so every
process shares it). Searches arrive in a POST body; pages and exports then refer to the stored
search by its token, which holds only the keyed hash, never the number.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
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

    def __init__(self, retry_after: int, message: str = ""):
        message = message or _("Too many exact searches: try again in %(m)d minutes.")
        super().__init__(message % {"m": max(1, retry_after // 60)})
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
        _check_budget(user, now)
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


def _interactive(user, now):
    """The user's exact searches and duplicate checks of the last hour (imports have their own budget)."""
    return ExactSearch.objects.filter(user=user, time__gt=now - timedelta(hours=1)).exclude(
        field__startswith=IMPORT_PREFIX
    )


def _check_budget(user, now, pending: int = 0, message: str = ""):
    recent = _interactive(user, now)
    if recent.count() + pending >= settings.PRIVACY_EXACT_SEARCHES_PER_HOUR:
        oldest = recent.order_by("time").values_list("time", flat=True).first() or now
        raise BudgetExhausted(int((oldest + timedelta(hours=1) - now).total_seconds()) + 1, message)


def _log_one(user, model, field, reason, text, ip):
    PersonalDataAccess.objects.create(
        user=user, user_name=user.get_username(), object_type=ContentType.objects.get_for_model(model),
        object_id="", object_repr=text, field=f"search:{field}", reason=reason,
        request_id=current_request_id(), ip=ip or None,
    )  # fmt: skip


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
        return (
            ExactSearch.objects.filter(
                token=token, user_id=getattr(user, "pk", None), target=type_label(model), time__gt=keep
            )
            .exclude(field__contains=":")  # duplicate checks of writes and imports are no stored search
            .first()
        )
    except ValidationError:  # not a UUID
        return None


def apply(queryset, search: ExactSearch | None):
    """The queryset narrowed to a stored search (nothing when the search is gone)."""
    if search is None:
        return queryset.none()
    return queryset.filter(**{_hash_field(queryset.model, search.field): search.value_hash})


# ---- Duplicates found by writes ------------------------------------------------------------------
# Registering somebody whose number is registered already answers "already registered": the same
# "does this number exist" test as an exact search. Each such answer about a person out of the
# writer's jurisdiction is budgeted and logged like a search. The write that finds it is refused and
# rolled back, so the log rows wait in a per-thread list and are written when the outermost
# deferred_access_log() block ends (after the rollback), never inside the doomed transaction.

DUPLICATE_PREFIX = "duplicate:"
IMPORT_PREFIX = "import:"
_pending = threading.local()


@dataclass
class PendingAccess:
    user: object
    model: type
    field: str  # "duplicate:id_number", "import:id_number"
    value_hash: str
    reason: str
    found: list = dataclass_field(default_factory=list)  # the people found (at most LOGGED_MATCHES)
    count: int = 1
    ip: str | None = None


@contextmanager
def deferred_access_log():
    """Collect the access rows of duplicate checks inside; write them when the outermost block ends
    (after the transactions inside it committed or rolled back)."""
    outer = getattr(_pending, "rows", None) is None
    if outer:
        _pending.rows = []
    try:
        yield
    finally:
        if outer:
            rows, _pending.rows = _pending.rows, None
            for row in rows:
                _write(row)


def _write(row: PendingAccess):
    with transaction.atomic():
        ExactSearch.objects.create(user=row.user, target=type_label(row.model), field=row.field,
                                   value_hash=row.value_hash, reason=row.reason, found=row.count)  # fmt: skip
        if row.field.startswith(IMPORT_PREFIX):  # one row per import: the count and the first ids
            ids = ", ".join(f"#{p.pk}" for p in row.found)
            _log_one(row.user, row.model, row.field, row.reason, f"{row.count}: {ids}"[:200], row.ip)
        else:
            _log(row.user, row.model, row.field, row.reason, row.found, row.ip)


def _defer(row: PendingAccess):
    rows = getattr(_pending, "rows", None)
    if rows is None:
        _write(row)  # no transaction of a write to outlive: log at once
    else:
        rows.append(row)


def check_write_budget(user) -> None:
    """Before a write looks for a number in the whole register: BudgetExhausted when the user's
    hourly budget is spent, whether or not the number is there (so that the refusal says nothing)."""
    pending = [r for r in (getattr(_pending, "rows", None) or []) if r.user.pk == user.pk
               and not r.field.startswith(IMPORT_PREFIX)]  # fmt: skip
    message = _("Too many numbers found registered elsewhere in the last hour: try again in %(m)d minutes.")
    _check_budget(user, timezone.now(), len(pending), message)


def duplicate_found(user, existing, field: str, value_hash: str, *, ip: str | None = None) -> None:
    """A write found `existing` (out of the user's jurisdiction) with this number: one use of the
    user's hourly exact-search budget, logged as an access (call check_write_budget() first)."""
    _defer(PendingAccess(user, type(existing), DUPLICATE_PREFIX + field, value_hash,
                         _("duplicate check on registration"), [existing], ip=ip))  # fmt: skip


def import_duplicates_budget(user) -> tuple[int, int]:
    """(how many more numbers registered elsewhere the user's imports may report this hour, seconds
    until the oldest counted one leaves the hour)."""
    now = timezone.now()
    recent = ExactSearch.objects.filter(user=user, time__gt=now - timedelta(hours=1), field__startswith=IMPORT_PREFIX)
    used = sum(recent.values_list("found", flat=True))
    used += sum(r.count for r in (getattr(_pending, "rows", None) or []) if r.user.pk == user.pk
                and r.field.startswith(IMPORT_PREFIX))  # fmt: skip
    oldest = recent.order_by("time").values_list("time", flat=True).first() or now
    retry = int((oldest + timedelta(hours=1) - now).total_seconds()) + 1
    return max(0, settings.PRIVACY_IMPORT_DUPLICATES_PER_HOUR - used), retry


def import_duplicates_found(user, model, field: str, found: list, *, filename: str = "") -> None:
    """One access row per import and column for the people registered elsewhere that it reported."""
    if found:
        reason = _("duplicate check on import %(file)s: %(n)d registered elsewhere") % {
            "file": filename, "n": len(found)}  # fmt: skip
        _defer(PendingAccess(user, model, IMPORT_PREFIX + field, "", reason, found[:LOGGED_MATCHES], len(found)))
