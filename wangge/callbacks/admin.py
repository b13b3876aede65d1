from django.contrib import admin

from .models import CallbackTask


@admin.register(CallbackTask)
class CallbackTaskAdmin(admin.ModelAdmin):
    list_display = ("case", "state", "result", "due_at", "attempts", "satisfaction", "resolved")
    list_filter = ("state", "result")
    raw_id_fields = ("case", "done_by")
    readonly_fields = [f.name for f in CallbackTask._meta.fields]  # changed only through actions

    def has_add_permission(self, request):
        return False
