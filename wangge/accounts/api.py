from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from wangge.core.apitypes import ErrorOut, errors

from . import actions
from .models import Department
from .scope import scope_for

router = Router(tags=["accounts"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None  # the 6-digit code, for users with two-step verification


class TokenOut(Schema):
    token: str


class SecondFactorOut(Schema):
    detail: str
    otp_required: bool = True
    enrol: bool = False


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut | SecondFactorOut, 403: SecondFactorOut, 429: ErrorOut},
)
def obtain_token(request, payload: TokenIn, response: HttpResponse):
    """Exchange a username and password (and the 6-digit code, for users with two-step verification)
    for a bearer token. 401 with `otp_required`: send the code in `otp`; 403 with `enrol`: the role
    needs two-step verification, set it up on the web first; 429: too many failed logins (a right
    `otp` lifts the lock)."""
    try:
        user = actions.login_with_second_factor(request, payload.username, payload.password, payload.otp)
    except actions.LoginThrottled as exc:
        response["Retry-After"] = str(exc.lock.wait_seconds())
        return Status(429, {"detail": str(exc)})
    except actions.SecondFactorNeeded as exc:
        status = 403 if exc.enrol else 401
        return Status(status, {"detail": str(exc), "otp_required": True, "enrol": exc.enrol})
    if user is None:
        return Status(401, {"detail": _("Wrong username or password.")})
    return Status(200, {"token": actions.issue_token(user)})


@router.delete("/auth/token", response={204: None})
def revoke_token(request):
    """Revoke the bearer token used for this request."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        actions.revoke_token(header[7:].strip())
    return Status(204, None)


class MembershipOut(Schema):
    role: str
    role_label: str
    area_code: str | None
    area_name: str | None
    department_code: str | None
    department_name: str | None


class MeOut(Schema):
    username: str
    full_name: str
    email: str
    phone: str
    is_superuser: bool
    memberships: list[MembershipOut]
    scope_area_paths: list[str]
    sees_everything: bool


@router.get("/me", response=MeOut)
def me(request):
    return _me(request.user)


class ProfileIn(Schema):
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None


@router.patch("/me", response={200: MeOut, **errors(400)})
def update_me(request, payload: ProfileIn):
    """Change one's own name, e-mail or mobile (the number SMS reminders go to)."""
    user = request.user
    fields = {"full_name": user.full_name, "email": user.email, "phone": user.phone}
    fields.update(payload.dict(exclude_none=True))
    actions.update_profile(user, **fields)
    return _me(user)


def _me(user):
    scope = scope_for(user)
    memberships = [
        {
            "role": m.role,
            "role_label": str(m.get_role_display()),
            "area_code": m.area.code if m.area_id else None,
            "area_name": m.area.name if m.area_id else None,
            "department_code": m.department.code if m.department_id else None,
            "department_name": m.department.name if m.department_id else None,
        }
        for m in user.membership_list
    ]
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "is_superuser": user.is_superuser,
        "memberships": memberships,
        "scope_area_paths": list(scope.visible_area_paths),
        "sees_everything": scope.everything,
    }


class PasswordIn(Schema):
    old_password: str
    new_password: str


@router.post("/me/password", response={204: None, **errors(400, 429)})
def change_password(request, payload: PasswordIn, response: HttpResponse):
    """429 after too many wrong old passwords (the login throttle: Retry-After says when)."""
    user = request.user
    try:
        actions.check_current_password(request, user, payload.old_password)
    except actions.LoginThrottled as exc:
        response["Retry-After"] = str(exc.lock.wait_seconds())
        return Status(429, {"detail": str(exc)})
    except ValidationError as exc:
        return Status(400, {"detail": "invalid input", "errors": exc.message_dict})
    try:
        password_validation.validate_password(payload.new_password, user)
    except ValidationError as exc:
        return Status(400, {"detail": "invalid input", "errors": {"new_password": exc.messages}})
    actions.change_password(user, payload.new_password, acting_user=user)
    return Status(204, None)


class DepartmentOut(Schema):
    code: str
    name: str
    level: str
    area_code: str


@router.get("/departments", response=list[DepartmentOut])
def departments(request):
    return [
        {"code": d.code, "name": d.name, "level": d.level, "area_code": d.area.code}
        for d in Department.objects.filter(is_active=True).select_related("area")
    ]
