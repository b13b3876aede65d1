"""Authentication as Django's ModelBackend, behind the failed-login throttle, plus the permissions
that come with a user's roles."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from wangge.core.clientip import client_ip

from . import throttle
from .models import ROLE_PERMISSIONS


class RoleModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """Every door that calls authenticate() (the login page, the admin's, the API token, a
        form of a library) is throttled here. A lock is left on the request for the door to show
        (request.login_lock) and PermissionDenied stops Django from asking other backends."""
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = client_ip(request)
        lock = throttle.check(username, ip)
        if lock is not None:
            if request is not None:
                request.login_lock = lock
            raise PermissionDenied(lock.message())
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.record_failure(username, ip)
        else:
            throttle.record_success(username, ip)
        return user

    def get_role_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return user_obj.from_memberships(
            "role_permissions", lambda: set().union(*(ROLE_PERMISSIONS.get(role, set()) for role in user_obj.roles))
        )

    def get_all_permissions(self, user_obj, obj=None):
        return {*super().get_all_permissions(user_obj, obj), *self.get_role_permissions(user_obj, obj)}
