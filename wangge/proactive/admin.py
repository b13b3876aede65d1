from django.contrib import admin

from wangge.history.admin import HistoryAdminMixin, ReadOnlyAdminMixin

from .models import ProactiveWork, SpotRule


@admin.register(SpotRule)
class SpotRuleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["name", "area", "category", "min_cases", "days", "radius_m", "kind", "is_active"]
    list_filter = ["is_active", "kind"]
    autocomplete_fields = ["area", "category"]
    search_fields = ["name"]


@admin.register(ProactiveWork)
class ProactiveWorkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Made by act_on_spot and the spot rules only."""

    list_display = ["created_at", "category", "area", "kind", "case", "task", "created_by", "rule", "cases_at_action"]
    list_filter = ["kind"]
    raw_id_fields = ["category", "area", "case", "task", "created_by", "rule"]
