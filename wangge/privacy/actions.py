"""reveal(): the one way to see personal data in full — checked, logged, then returned."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wangge.accounts.scope import scope_for
from wangge.history.context import current_request_id

from .models import PersonalDataAccess
from .revealable import spec_for

PERMISSION = "privacy.reveal_personal_data"
REASON_MAX = 500


def may_reveal(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


def in_jurisdiction(user, area_path: str) -> bool:
    """Area memberships only: a department's service area does not open its residents' data."""
    scope = scope_for(user)
    return scope.everything or any(area_path.startswith(p) for p in scope.area_paths)


@transaction.atomic
def reveal(user, obj, field: str, reason: str, *, ip: str | None = None) -> str:
    """The clear value of obj.<field> for this user, with one PersonalDataAccess row written.

    PermissionDenied without the permission or outside the user's jurisdiction; ValidationError
    naming the field for an unknown field or a missing reason.
    """
    spec = spec_for(obj)
    if spec is None or field not in spec.fields:
        raise ValidationError({"field": _("This field cannot be revealed.")})
    if not may_reveal(user):
        raise PermissionDenied(_("You may not see personal data in full."))
    if not in_jurisdiction(user, spec.area_path(obj)):
        raise PermissionDenied(_("This record is outside your jurisdiction."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need to see it in full.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": REASON_MAX}})
    value = spec.fields[field].clear(obj)
    from django.contrib.contenttypes.models import ContentType

    PersonalDataAccess.objects.create(
        user=user,
        user_name=user.get_username(),
        object_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        field=field,
        reason=reason,
        request_id=current_request_id(),
        ip=ip or None,
    )
    return value
