"""Admin: the taxonomy, matter items and deadline rules are edited here (recorded in history);
cases only looked at (their changes go through the workflow, so that every step is in the trail)."""

from django.contrib import admin

from wangge.history.admin import HistoryAdminMixin, ReadOnlyAdminMixin

from .models import Assignment, Case, CaseEvent, Category, DeadlineRule, MatterItem


@admin.register(Category)
class CategoryAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "edition", "is_active"]
    list_filter = ["kind", "is_active", "edition"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class DeadlineRuleInline(admin.TabularInline):
    model = DeadlineRule
    extra = 0


@admin.register(MatterItem)
class MatterItemAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "category", "department", "default_severity", "is_active"]
    list_filter = ["department", "default_severity", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["category"]
    inlines = [DeadlineRuleInline]


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = [
        "matter_item",
        "severity",
        "dispatch_hours",
        "handle_hours",
        "working_hours",
        "remind_before_hours",
        "escalate_when_overdue",
    ]
    list_filter = ["severity", "working_hours"]


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["department", "status", "deadline", "overdue_at", "extension_status", "feedback"]


class EventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor_name", "actor_role", "note"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "status", "severity", "channel", "area", "category", "is_overdue", "created_at"]
    list_filter = ["status", "severity", "channel", "is_overdue", "command_level"]
    search_fields = ["number", "tracking_number", "description"]
    exclude = ["reporter_phone_encrypted", "idempotency_key"]
    inlines = [AssignmentInline, EventInline]
