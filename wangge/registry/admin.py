"""Admin: the configuration lists (building uses, place types, tags) are edited here, recorded in
history; register rows change only through the pages, the API and imports (actions.py)."""

from django.contrib import admin

from wangge.history.admin import HistoryAdminMixin

from .models import BuildingUse, PlaceType, Tag


@admin.register(BuildingUse)
class BuildingUseAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "order", "is_active"]
    list_editable = ["order", "is_active"]
    search_fields = ["code", "name"]


@admin.register(PlaceType)
class PlaceTypeAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "is_three_small", "order", "is_active"]
    list_filter = ["is_three_small", "is_active"]
    search_fields = ["code", "name"]


@admin.register(Tag)
class TagAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "order", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
