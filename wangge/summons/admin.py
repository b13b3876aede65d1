from django.contrib import admin

from wangge.history.admin import ReadOnlyAdminMixin

from .models import Arrival, SummonedDepartment, Summons


class SummonedDepartmentInline(admin.TabularInline):
    model = SummonedDepartment
    extra = 0
    can_delete = False
    readonly_fields = ("department", "notified_at", "state", "arrived_at", "arrived_by", "distance_m")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Summons)
class SummonsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Changed only through the actions: the admin shows, never edits."""

    list_display = ("id", "reason", "area", "created_by", "created_at", "arrive_by", "status")
    list_filter = ("status",)
    raw_id_fields = ("case", "area", "created_by", "closed_by")
    inlines = [SummonedDepartmentInline]


@admin.register(Arrival)
class ArrivalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("summoned", "user", "at", "distance_m", "accuracy_m", "late", "too_far", "poor_fix", "no_fix")
    list_filter = ("late", "too_far", "poor_fix", "no_fix")
