"""Admin: sensors are set up here (placed through actions.save_sensor, recorded in history); their
readings are only looked at."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _

from wangge.history.admin import ReadOnlyAdminMixin

from . import actions
from .models import Reading, Sensor


class SensorForm(ModelForm):
    class Meta:
        model = Sensor
        fields = [
            *("code", "name", "kind", "lat", "lng", "address", "matter_item", "metric", "threshold", "direction"),
            *("valid_min", "valid_max", "report_every", "is_active"),
        ]

    def clean(self):
        data = super().clean()
        low, high = data.get("valid_min"), data.get("valid_max")
        if low is not None and high is not None and low > high:
            self.add_error("valid_max", _("The highest valid value is below the lowest."))
        if not self.errors:
            sensor = self.instance
            for field, value in data.items():
                setattr(sensor, field, value)
            try:
                actions.place(sensor)  # a place outside the city is refused on the form, by field
            except ValidationError as exc:
                self.add_error("lat" if "lat" in self.fields else None, exc.message_dict.get("lat", exc.messages))
        return data


class ReadingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Reading
    fields = ["message_id", "seq", "value", "measured_at", "received_at", "is_alarm", "case"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    ordering = ["-received_at"]


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    form = SensorForm
    list_display = ["code", "name", "kind", "area", "matter_item", "threshold", "direction", "is_active"]
    list_filter = ["kind", "is_active", "direction"]
    search_fields = ["code", "name"]
    raw_id_fields = ["address"]
    readonly_fields = ["area"]
    inlines = [ReadingInline]

    def save_model(self, request, obj, form, change):
        actions.save_sensor(obj, request.user)


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sensor", "message_id", "value", "measured_at", "is_alarm", "case"]
    list_filter = ["is_alarm"]
    search_fields = ["sensor__code", "message_id"]
    list_select_related = ["sensor", "case"]
