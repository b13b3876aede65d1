"""Admin: hotline platforms are set up here; work orders and their pushed states are only looked at."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Platform, WorkOrder, WorkOrderPush


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "endpoint", "is_active", "created_at"]
    fields = ["code", "name", "secret", "endpoint", "is_active"]


class PushInline(admin.TabularInline):
    model = WorkOrderPush
    fields = ["seq", "state", "round", "notification", "sent_at", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("sent"))
    def sent_at(self, push):
        return push.sent_at


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "platform", "case", "deadline", "received_at"]
    list_filter = ["platform"]
    search_fields = ["external_id", "case__number"]
    fields = ["platform", "external_id", "case", "caller_name", "category_hint", "deadline", "received_at"]
    readonly_fields = fields
    inlines = [PushInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
