from django.contrib import admin

from wangge.history.admin import HistoryAdminMixin

from .models import WatchList


@admin.register(WatchList)
class WatchListAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """Lists are made here; entries come by import (/imports/watchlist/), hits by screening."""

    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]
