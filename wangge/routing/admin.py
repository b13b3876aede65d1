from django.contrib import admin

from .models import AutoDispatchRule, CaseSuggestion, RoutingModel


@admin.register(RoutingModel)
class RoutingModelAdmin(admin.ModelAdmin):
    list_display = ["version", "status", "created_at", "label_count", "metrics", "train_seconds"]
    exclude = ["artifact"]
    readonly_fields = [f.name for f in RoutingModel._meta.fields if f.name != "artifact"]

    def has_add_permission(self, request):
        return False  # versions are trained, from the routing page


@admin.register(CaseSuggestion)
class CaseSuggestionAdmin(admin.ModelAdmin):
    list_display = ["case", "model", "auto_routed_at", "undone_at"]
    raw_id_fields = ["case"]
    readonly_fields = ["case", "model", "suggestions", "auto_rule", "auto_routed_at", "undone_at", "undone_by"]


@admin.register(AutoDispatchRule)
class AutoDispatchRuleAdmin(admin.ModelAdmin):
    list_display = ["matter_item", "command_level", "threshold", "is_active"]
