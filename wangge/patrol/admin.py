from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wangge.history.admin import HistoryAdminMixin, ReadOnlyAdminMixin

from .actions import new_checklist_version
from .models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionRule,
    InspectionTask,
    TrackDay,
    WorkerPosition,
    checklist_name,
)


@admin.register(TrackDay)
class TrackDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["worker", "day", "point_count", "distance_m", "seconds_on_duty", "seconds_in_grid", "flagged_count"]
    list_filter = ["day"]
    search_fields = ["worker__username", "worker__full_name"]
    exclude = ["points"]


@admin.register(WorkerPosition)
class WorkerPositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["worker", "at", "lat", "lng", "accuracy_m", "area_path"]
    search_fields = ["worker__username", "worker__full_name"]


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["order", "code", "text", "answer_type", "choices", "failing_choices", "min_value", "max_value",
              "required", "is_collection", "matter_item"]  # fmt: skip


@admin.register(Checklist)
class ChecklistAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "version", "name", "target_kind", "is_current"]
    list_filter = ["target_kind", "is_current"]
    inlines = [ChecklistItemInline]
    actions = ["copy_as_new_version"]

    def has_change_permission(self, request, obj=None):
        # A version that inspections were done with stays as it was: copy it to a new version instead.
        if obj is not None and Inspection.objects.filter(checklist=obj).exists():
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Copy as a new current version"))
    def copy_as_new_version(self, request, queryset):
        for checklist in queryset:
            new = new_checklist_version(checklist, acting_user=request.user)
            message = _("%(name)s: version %(v)s is now current.") % {"name": new.name, "v": new.version}
            self.message_user(request, message)


@admin.display(description=_("checklist"))
def checklist(obj) -> str:
    """Rules and tasks keep a checklist's code; the lists show its name."""
    return checklist_name(obj.checklist_code)


@admin.register(InspectionRule)
class InspectionRuleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["target_kind", "risk_class", "place_type", "three_small_only", "every_days", checklist,
                    "is_active"]  # fmt: skip
    list_filter = ["target_kind", "is_active"]


@admin.register(InspectionTask)
class InspectionTaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["target_key", "target_kind", "due_date", "status", "risk_class", checklist]
    list_filter = ["status", "target_kind"]
    search_fields = ["target_key", "area_path"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["target_key", "checklist", "inspector", "finished_at", "result", "gps"]
    list_filter = ["result", "gps"]
    search_fields = ["target_key", "inspector__username"]
