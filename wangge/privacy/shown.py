"""What a user sees of a person's identity: the one place that decides it.

Every page, API answer, export and change record that shows a person goes through these functions.
The ID number is only ever shown masked (first and last character, wangge.core.pii.mask_id_number);
its middle holds the region, the birth date and the sex, so whatever else is shown must not fill it
in. Without the permission privacy.reveal_personal_data a user sees the birth year, never the date;
with it, the date (the full number itself still needs reveal(), with a logged reason).
"""

from datetime import date

from django.db.models import F
from django.db.models.functions import ExtractYear

from .actions import may_reveal


def sees_birth_date(user) -> bool:
    return may_reveal(user)


def birth_year(value: date | None) -> int | None:
    return value.year if value else None


def birth_text(user, value: date | None) -> str:
    """ "1985-03-04" for a user with the permission, "1985" for others, "" when unknown."""
    if not value:
        return ""
    return value.isoformat() if sees_birth_date(user) else str(value.year)


def birth_fields(user, value: date | None) -> dict:
    """For API answers: birth_date only for a user with the permission; birth_year for everyone."""
    return {"birth_date": value if sees_birth_date(user) else None, "birth_year": birth_year(value)}


def birth_annotation(user, field: str = "birth_date"):
    """A queryset expression for exports: the date, or only its year (computed by the database)."""
    return F(field) if sees_birth_date(user) else ExtractYear(field)


def snapshot_birth(value: date | None) -> str | None:
    """What a change record keeps: the year only (change records are read by more people than the
    register, and they keep the masked ID number next to it)."""
    return str(value.year) if value else None
