"""Finding people by a full ID number, passport or phone: through the privacy app's exact search
(a POST with a reason or the permission, logged, budgeted per user), for pages and the API alike."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wangge.privacy import search

from . import queries
from .models import Person


def find_people(user, value: str, reason: str = "", *, ip: str | None = None):
    """(the stored search, the people the user may see with that number). ValidationError naming
    the field (value, reason) or privacy.search.BudgetExhausted."""
    exact = queries.exact_value(value)
    if exact is None:
        raise ValidationError({"value": _("Enter a full ID number, passport number or phone number.")})
    field, value_hash = exact
    stored, _rows = search.exact_search(user, Person, field, value_hash, reason, ip=ip)
    return stored, search.apply(queries.people(user), stored)


def stored_people(user, token: str):
    """The people of the user's own stored search (nothing when it is unknown or expired)."""
    return search.apply(queries.people(user), search.stored(user, token, Person))
