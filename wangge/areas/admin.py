from django.contrib import admin

from wangge.history.admin import HistoryAdminMixin

from .models import Area


@admin.register(Area)
class AreaAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "boundary_generated"]
    list_filter = ["level", "boundary_generated"]
    search_fields = ["code", "name", "official_name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path"]
    fields = ["code", "name", "official_name", "level", "parent", "path", "boundary", "boundary_generated"]

    def save_model(self, request, obj, form, change):
        # Keep path, bbox and the locate index right when an administrator edits an area.
        from .actions import refresh_derived_fields

        refresh_derived_fields(obj)
        super().save_model(request, obj, form, change)
