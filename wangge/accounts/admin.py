from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from wangge.history.actions import record_change
from wangge.history.admin import HistoryAdminMixin
from wangge.history.models import ChangeAction
from wangge.jobs.admin import TransferAdminMixin

from .actions import unlock_logins, user_snapshot, validate_membership
from .models import ApiToken, Department, LoginFailure, Membership, User


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "area", "department"]

    def clean(self):
        data = super().clean()
        if data.get("role"):
            validate_membership(data["role"], data.get("area"), data.get("department"))
        return data


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    raw_id_fields = ["area"]


@admin.register(User)
class UserAdmin(HistoryAdminMixin, DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "full_name", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = DjangoUserAdmin.fieldsets + ((_("Profile"), {"fields": ["full_name"]}),)
    actions = ["unlock_logins"]

    @admin.action(description=_("Unlock logins (after failed attempts)"))
    def unlock_logins(self, request, queryset):
        for user in queryset:
            unlock_logins(user, acting_user=request.user)
        self.message_user(request, _("Logins unlocked for %(n)d users.") % {"n": queryset.count()})

    def save_model(self, request, obj, form, change):
        before = user_snapshot(User.objects.get(pk=obj.pk)) if change else None
        admin.ModelAdmin.save_model(self, request, obj, form, change)
        record_change(
            obj,
            ChangeAction.UPDATE if change else ChangeAction.CREATE,
            acting_user=request.user,
            before=before,
            after=user_snapshot(obj),
        )

    def save_formset(self, request, form, formset, change):
        """Memberships edited inline are recorded like any other change (MembershipForm checks the rule)."""
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            record_change(
                obj, ChangeAction.DELETE, acting_user=request.user, before=obj.history_snapshot(), related=obj.user
            )
            obj.delete()
        for obj in instances:
            created = obj.pk is None
            before = None if created else Membership.objects.get(pk=obj.pk).history_snapshot()
            obj.save()
            record_change(
                obj,
                ChangeAction.CREATE if created else ChangeAction.UPDATE,
                acting_user=request.user,
                before=before,
                after=obj.history_snapshot(),
                related=obj.user,
            )


@admin.register(Department)
class DepartmentAdmin(TransferAdminMixin, HistoryAdminMixin, admin.ModelAdmin):
    transfer_import = transfer_export = "departments"
    list_display = ["code", "name", "level", "area", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["area"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Who is being held back, from where (read only; unlock from the user list's action or
    `wangge unlock_login USERNAME`)."""

    list_display = ["username", "ip", "time"]
    list_filter = ["time"]
    search_fields = ["username", "ip"]
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TwoFactorDeviceAdmin(admin.ModelAdmin):
    """A user's authenticator (two-step verification). Never the key; delete one for a lost phone
    (the user enrols again at the next login)."""

    list_display = ["user", "confirmed_label", "created_label", "last_used_label"]
    search_fields = ["user__username", "user__full_name"]
    fields = ["user"]
    readonly_fields = ["user"]

    @admin.display(description=_("confirmed"), boolean=True)
    def confirmed_label(self, obj):
        return obj.confirmed

    @admin.display(description=_("created"))
    def created_label(self, obj):
        return obj.created_at

    @admin.display(description=_("last used"))
    def last_used_label(self, obj):
        return obj.last_used_at

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
