"""Authentication as Django's ModelBackend, plus the permissions that come with a user's roles."""

from django.contrib.auth.backends import ModelBackend

from .models import ROLE_PERMISSIONS


class RoleModelBackend(ModelBackend):
    def get_role_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_wangge_role_perm_cache"):
            perms = set()
            for role in user_obj.roles:
                perms |= ROLE_PERMISSIONS.get(role, set())
            user_obj._wangge_role_perm_cache = perms
        return user_obj._wangge_role_perm_cache

    def get_all_permissions(self, user_obj, obj=None):
        return {*super().get_all_permissions(user_obj, obj), *self.get_role_permissions(user_obj, obj)}
