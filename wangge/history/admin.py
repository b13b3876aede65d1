from django.contrib import admin

from .actions import record_change, snapshot
from .models import ChangeAction, ChangeRecord


class ReadOnlyAdminMixin:
    """For records that only their own actions write (trails, outboxes): look, never edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["time", "user_name", "source", "action", "object_type", "object_repr"]
    list_filter = ["action", "source", "object_type"]
    search_fields = ["object_repr", "user_name", "object_id"]
    date_hierarchy = "time"


class HistoryAdminMixin:
    """Admin edits are recorded like any other change."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record_change(
            obj,
            ChangeAction.UPDATE if change else ChangeAction.CREATE,
            acting_user=request.user,
            before=before,
            after=snapshot(obj),
            related=self.history_related(obj),
        )

    def delete_model(self, request, obj):
        record_change(
            obj,
            ChangeAction.DELETE,
            acting_user=request.user,
            before=snapshot(obj),
            related=self.history_related(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def history_related(self, obj):
        return None
