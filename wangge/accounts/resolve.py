"""Ids that arrive in a write, resolved through what the writer may reach: the one place.

Every id a write names (photos, rooms, people, departments, cases to merge, ...) is looked up in a
queryset the caller has already narrowed to the writer's jurisdiction or to the object's owner
(`accounts.scope.restrict`, `cases.queries.case_list`, "photos uploaded by this user", ...), never
city-wide. An id outside that queryset is answered exactly like an id that does not exist, so a
write cannot be used to learn what lies outside the writer's reach. Ids beyond a database integer
are a field error, not a 500.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

# The largest id any of our databases stores (signed 64-bit); larger numbers cannot name a row.
MAX_ID = 2**63 - 1


def _unknown(field: str, message: str | None):
    return ValidationError({field: message or _("Unknown or not in your jurisdiction.")})


def _check_id(value, field: str, message: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise _unknown(field, message) from None
    if not 0 < value <= MAX_ID:
        raise _unknown(field, message)
    return value


def resolve_one(queryset: QuerySet, pk, field: str, *, message: str | None = None) -> Model:
    """The row with this id inside the queryset, or a ValidationError naming the field."""
    pk = _check_id(pk, field, message)
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise _unknown(field, message)
    return found


def resolve_many(queryset: QuerySet, ids: Iterable, field: str, *, message: str | None = None) -> list[Model]:
    """Every row named by the ids, in the order given (duplicates once); any id outside the
    queryset (or unknown) is a ValidationError naming the field, and nothing is returned."""
    wanted: list[int] = []
    for value in ids or ():
        pk = _check_id(value, field, message)
        if pk not in wanted:
            wanted.append(pk)
    if not wanted:
        return []
    found = {row.pk: row for row in queryset.filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise _unknown(field, message)
    return [found[pk] for pk in wanted]


def resolve_by(
    queryset: QuerySet, values: Iterable, field: str, *, attr: str, message: str | None = None
) -> list[Model]:
    """resolve_many for rows named by another unique column (a code, a photo's token): every value
    inside the queryset, in the order given (duplicates once), or a ValidationError naming the field."""
    wanted = list(dict.fromkeys(str(v).strip() for v in values or () if v is not None))
    if not wanted:
        return []
    if any(not v or len(v) > 200 for v in wanted):
        raise _unknown(field, message)
    found = {getattr(row, attr): row for row in queryset.filter(**{f"{attr}__in": wanted})}
    if len(found) != len(wanted):
        raise _unknown(field, message)
    return [found[v] for v in wanted]
