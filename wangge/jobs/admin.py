from django.contrib import admin

from wangge.history.admin import ReadOnlyAdminMixin

from .models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: jobs are made by the pages and run by the worker."""

    list_display = ("id", "kind", "register", "owner", "state", "done", "total", "created_at", "finished_at")
    list_filter = ("kind", "state", "register")
    search_fields = ("owner__username", "input_name", "message")
    readonly_fields = [f.name for f in Job._meta.fields]


class TransferAdminMixin:
    """Import / Export buttons on an admin list, for a register listed in wangge.jobs.registers."""

    change_list_template = "jobs/admin/change_list_transfer.html"
    transfer_import = ""
    transfer_export = ""

    def changelist_view(self, request, extra_context=None):
        extra = {"transfer_import": self.transfer_import, "transfer_export": self.transfer_export}
        return super().changelist_view(request, {**extra, **(extra_context or {})})
