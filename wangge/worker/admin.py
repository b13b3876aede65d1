"""The periodic tasks' heartbeats for administrators (read only: the worker writes them)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import health
from .models import TaskBeat


@admin.register(TaskBeat)
class TaskBeatAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "every_seconds", "last_started", "last_finished", "last_ok", "last_error_at"]
    readonly_fields = [f.name for f in TaskBeat._meta.fields]

    @admin.display(description=_("state"))
    def state(self, beat):
        found = {s.name: s for s in health.states()}.get(beat.name)
        if found is None:
            return "—"
        if found.running:
            return _("running")
        return _("late") if found.late else _("on time")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
