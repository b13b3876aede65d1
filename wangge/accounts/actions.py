"""Every change to users, memberships, departments and tokens: checked, written and recorded here."""

import copy
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from wangge.areas.models import Area
from wangge.core import pii, refcache
from wangge.core.clientip import client_ip
from wangge.history.actions import record_change, record_changes
from wangge.history.models import ChangeAction

from . import throttle, twofactor
from .models import (
    DEPARTMENT_ROLES,
    PERSONAL_ROLES,
    ROLE_AREA_LEVELS,
    ApiToken,
    Department,
    Membership,
    Role,
    User,
    with_places,
)

USER_HISTORY_FIELDS = ("username", "full_name", "email", "is_active", "is_staff", "is_superuser")


def user_snapshot(user: User) -> dict:
    return {f: getattr(user, f) for f in USER_HISTORY_FIELDS}


@transaction.atomic
def create_user(
    username: str,
    password: str | None,
    *,
    full_name: str = "",
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    acting_user=None,
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("A user with this username already exists.")})
    user = User(username=username, full_name=full_name, email=email, is_staff=is_staff, is_superuser=is_superuser)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    record_change(user, ChangeAction.CREATE, acting_user=acting_user, after=user_snapshot(user))
    return user


@transaction.atomic
def update_user(user: User, *, acting_user=None, **fields) -> User:
    before = user_snapshot(user)
    for key, value in fields.items():
        if key not in USER_HISTORY_FIELDS:
            raise ValueError(f"unknown user field {key}")
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    user.save()
    user.forget_memberships()  # the scope and portal flag read is_active, is_staff, is_superuser too
    record_change(user, ChangeAction.UPDATE, acting_user=acting_user, before=before, after=user_snapshot(user))
    return user


@transaction.atomic
def update_profile(user: User, *, full_name: str, email: str, phone: str) -> User:
    """A user's own name, e-mail and mobile (for SMS). The change record keeps the phone masked."""
    before = {**user_snapshot(user), "phone": pii.mask_phone(user.phone)}
    user.full_name, user.email = full_name.strip(), email.strip()
    user.set_phone(phone)
    if user.phone and not pii.is_mobile(user.phone):
        raise ValidationError({"phone": _("Enter a mainland mobile number: SMS cannot reach a landline.")})
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "email", "phone_encrypted"])
    after = {**user_snapshot(user), "phone": pii.mask_phone(user.phone)}
    record_change(user, ChangeAction.UPDATE, acting_user=user, before=before, after=after)
    return user


@transaction.atomic
def change_password(user: User, new_password: str, *, acting_user=None) -> None:
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # The record says the password changed; never what it is.
    record_change(
        user,
        ChangeAction.UPDATE,
        acting_user=acting_user,
        before={"password": "…"},
        after={"password": "changed " + timezone.now().isoformat()},
    )
    # Old tokens go with the old password.
    user.api_tokens.all().delete()


def validate_membership(role: str, area: Area | None, department: Department | None) -> None:
    """The rule of which role is tied to what. Raises ValidationError naming the field."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": role}})
    if role in PERSONAL_ROLES:
        if area or department:
            raise ValidationError({"role": _("Landlords and citizens are not tied to an area or department.")})
        return
    if role == Role.DEPARTMENT_HANDLER:
        if department is None:
            raise ValidationError({"department": _("A department handler needs a department.")})
        if area is not None:
            raise ValidationError({"area": _("A department handler is tied to a department, not an area.")})
        return
    if department is not None and role in DEPARTMENT_ROLES and area is None:
        return  # a department's leader
    if area is None:
        raise ValidationError({"area": _("This role needs an area.")})
    if area.level not in ROLE_AREA_LEVELS[role]:
        allowed = "、".join(str(level.label) for level in sorted(ROLE_AREA_LEVELS[role]))
        raise ValidationError(
            {
                "area": _("Role %(role)s cannot be tied to a %(level)s (allowed: %(allowed)s).")
                % {"role": Role(role).label, "level": area.get_level_display(), "allowed": allowed}
            }
        )


@transaction.atomic
def add_membership(
    user: User, role: str, *, area: Area | None = None, department: Department | None = None, acting_user=None
) -> Membership:
    validate_membership(role, area, department)
    membership, created = Membership.objects.get_or_create(user=user, role=role, area=area, department=department)
    if created:
        record_change(
            membership, ChangeAction.CREATE, acting_user=acting_user, after=membership.history_snapshot(), related=user
        )
    user.forget_memberships()  # the caller's instance sees the new role at once
    return membership


@transaction.atomic
def remove_membership(membership: Membership, *, acting_user=None) -> None:
    record_change(
        membership,
        ChangeAction.DELETE,
        acting_user=acting_user,
        before=membership.history_snapshot(),
        related=membership.user,
    )
    user = membership.user
    membership.delete()
    user.forget_memberships()


@transaction.atomic
def save_department(
    code: str, name: str, area: Area, *, level: str = "city", is_active: bool = True, acting_user=None
) -> Department:
    """Create or update a department by code."""
    department = Department.objects.filter(code=code).first()
    before = department.history_snapshot() if department else None
    if department is None:
        department = Department(code=code)
    department.name, department.area, department.level, department.is_active = name, area, level, is_active
    department.full_clean()
    department.save()
    record_change(
        department,
        ChangeAction.UPDATE if before else ChangeAction.CREATE,
        acting_user=acting_user,
        before=before,
        after=department.history_snapshot(),
    )
    return department


@transaction.atomic
def save_departments(rows: list[dict], *, acting_user=None) -> dict:
    """save_department() for many rows at once (an import's batch): create or update by code, the
    same field rules, one change record per created or changed department. rows: dicts of code,
    name, area (an Area), level, is_active; codes are unique within the batch."""
    existing = {d.code: d for d in Department.objects.filter(code__in=[r["code"] for r in rows]).select_related("area")}
    new, changed, changes = [], [], []
    for row in rows:
        department = existing.get(row["code"])
        before = department.history_snapshot() if department else None
        if department is None:
            department = Department(code=row["code"])
        department.name, department.area = row["name"], row["area"]
        department.level = row.get("level") or "city"
        department.is_active = row.get("is_active", True)
        # The area is a looked-up row and codes were matched above: no per-row queries for those.
        department.full_clean(exclude=["area"], validate_unique=False, validate_constraints=False)
        if before is None:
            new.append(department)
        elif department.history_snapshot() != before:
            changed.append((department, before))
    Department.objects.bulk_create(new, batch_size=500)
    if changed:
        Department.objects.bulk_update([d for d, _b in changed], ["name", "area", "level", "is_active"], batch_size=500)
    changes = [(d, ChangeAction.CREATE, None, d.history_snapshot()) for d in new]
    changes += [(d, ChangeAction.UPDATE, before, d.history_snapshot()) for d, before in changed]
    record_changes(changes, acting_user=acting_user)
    return {"created": len(new), "updated": len(changed), "unchanged": len(rows) - len(new) - len(changed)}


# ---------------------------------------------------------------- login throttling and tokens


LoginThrottled = throttle.LoginThrottled


class SecondFactorNeeded(Exception):
    """The password was right; the code of the user's authenticator app is missing, wrong, or the
    user's role needs one they have not enrolled yet (enrol is True)."""

    def __init__(self, message: str, *, enrol: bool = False):
        self.enrol = enrol
        super().__init__(message)


def authenticate_throttled(request, username: str, password: str) -> User | None:
    """authenticate() (the backend throttles every door); LoginThrottled when held back."""
    request.login_lock = None
    user = authenticate(request, username=username, password=password)
    if request.login_lock is not None:
        raise LoginThrottled(request.login_lock)
    return user


def check_current_password(request, user: User, password: str) -> None:
    """The password a signed-in user gives to change it, checked through the same throttled door
    as a login: a stolen session or token cannot be used to guess the password. ValidationError
    naming old_password when wrong; LoginThrottled when held back."""
    found = authenticate_throttled(request, user.get_username(), password or "")
    if found is None or found.pk != user.pk:
        raise ValidationError({"old_password": _("Your old password was entered incorrectly.")})


def login_with_second_factor(request, username: str, password: str, code: str | None) -> User | None:
    """Password, then the code for a user with a second factor (or whose role needs one): the API's
    token door. A locked account is unlocked first when the code is right. None: wrong password."""
    code_used = False
    try:
        user = authenticate_throttled(request, username, password)
    except LoginThrottled:
        if not code or not unlock_with_code(request, username, code):
            raise
        code_used = True
        user = authenticate_throttled(request, username, password)
    if user is None:
        return None
    if code_used:
        return user
    device = twofactor.device_for(user)
    if device is None:
        if twofactor.requires_2fa(user):
            raise SecondFactorNeeded(
                _("Your role needs two-step verification: set it up on the web first (My profile)."), enrol=True
            )
        return user
    if not code:
        raise SecondFactorNeeded(_("Enter the 6-digit code of your authenticator app."))
    if twofactor.verify(user, code) is None:
        raise SecondFactorNeeded(wrong_code_message(device))
    return user


def wrong_code_message(device) -> str:
    wait = twofactor.code_wait_seconds(device)
    if wait:
        return _("Wrong code. Too many wrong codes: try again in %(n)d seconds.") % {"n": wait}
    return _("Wrong or expired code.")


@transaction.atomic
def unlock_with_code(request, username: str, code: str) -> bool:
    """A locked-out user proves it is them with their second factor: the account's failures are
    forgotten and this address becomes one of theirs. False when the code (or the account) is wrong."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or twofactor.verify(user, code) is None:
        return False
    throttle.clear(user.username)
    throttle.record_success(user.username, client_ip(request))
    record_change(user, ChangeAction.UPDATE, acting_user=user, before={"login": "locked"}, after={"login": "unlocked"})
    return True


@transaction.atomic
def unlock_logins(user: User, *, acting_user=None) -> int:
    """An administrator lifts every login lock of the user (and the slow-down of their code)."""
    cleared = throttle.clear(user.username)
    for device in TOTPDevice.objects.filter(user=user):
        device.throttle_reset()
    record_change(
        user, ChangeAction.UPDATE, acting_user=acting_user, before={"login": "locked"}, after={"login": "unlocked"}
    )
    return cleared


@transaction.atomic
def start_2fa_enrolment(user: User) -> TOTPDevice:
    """The user's unconfirmed device (a new key, or the one shown before so the QR code stays the
    same on reload). It counts only once confirmed with a code."""
    device = twofactor.device_for(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=twofactor.DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def confirm_2fa(user: User, code: str) -> TOTPDevice | None:
    """The first right code confirms the device; None when it is wrong."""
    device = twofactor.device_for(user, confirmed=False)
    if device is None or twofactor.device_for(user) is not None:
        return None
    code = "".join((code or "").split())
    if not code.isdigit() or not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_change(user, ChangeAction.UPDATE, acting_user=user, before={"2fa": "off"}, after={"2fa": "on"})
    # Tokens obtained with the password alone go: from now on a token needs the code too.
    user.api_tokens.all().delete()
    return device


@transaction.atomic
def remove_2fa(user: User, *, acting_user=None) -> None:
    if acting_user == user and twofactor.requires_2fa(user):
        raise ValidationError({"code": _("Your role needs two-step verification: it cannot be turned off.")})
    TOTPDevice.objects.filter(user=user).delete()
    record_change(user, ChangeAction.UPDATE, acting_user=acting_user, before={"2fa": "on"}, after={"2fa": "off"})


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_hash_token(token), prefix=token[:8])
    return token


def _no_tokens() -> dict:
    return {}


# Looked-up tokens, per process: token hash → ApiToken with its user and the user's memberships.
# Kept until the "accounts.tokens" version moves (a user, membership or token changed, in any
# process; compared at most every API_TOKEN_CACHE_SECONDS), not reloaded on a timer: a phone sends
# a batch every few minutes, and each reload cost two queries. A revoked token or a deactivated user
# may still pass that long in another process (revoke_token drops it here at once).
_tokens = refcache.RefCache("accounts.tokens", _no_tokens, check_seconds=settings.API_TOKEN_CACHE_SECONDS)


def user_for_token(token: str) -> User | None:
    key_hash = _hash_token(token)
    cached = _tokens.get()
    api_token = cached.get(key_hash)
    if api_token is None:
        api_token = (
            ApiToken.objects.select_related("user")
            .prefetch_related(Prefetch("user__memberships", queryset=with_places(Membership.objects.all())))
            .filter(key_hash=key_hash)
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            return None
        if len(cached) > 10_000:
            cached.clear()
        cached[key_hash] = api_token
    now = timezone.now()
    # Touch last_used at most once a minute: no write per request.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now
    # A copy per request: request code may set attributes on its user; the cached one stays clean.
    return copy.copy(api_token.user)


def _tokens_changed(sender, raw=False, created=False, update_fields=None, **kwargs):
    """A user, membership or token changed: every process looks its tokens up afresh. Not for a
    login's last_login or a new token (no cache can hold it yet): a morning of logins would
    otherwise empty every cache."""
    if raw or (sender is ApiToken and created) or (update_fields and set(update_fields) <= {"last_login"}):
        return
    refcache.bump("accounts.tokens")


for _model in (User, Membership, ApiToken):
    post_save.connect(_tokens_changed, sender=_model, dispatch_uid=f"accounts-token-cache-{_model.__name__}")
    post_delete.connect(_tokens_changed, sender=_model, dispatch_uid=f"accounts-token-cache-del-{_model.__name__}")


def revoke_token(token: str) -> bool:
    _tokens.get().pop(_hash_token(token), None)
    return ApiToken.objects.filter(key_hash=_hash_token(token)).delete()[0] > 0


def purge_old_login_failures() -> int:
    return throttle.purge_old()
