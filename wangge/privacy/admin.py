from django.contrib import admin

from wangge.history.admin import ReadOnlyAdminMixin

from .models import PersonalDataAccess


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["time", "user_name", "object_type", "object_repr", "field", "reason", "ip"]
    list_filter = ["object_type", "field"]
    search_fields = ["user_name", "object_repr", "object_id", "reason"]
    date_hierarchy = "time"
