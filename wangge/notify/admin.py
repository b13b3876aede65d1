from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from wangge.history.admin import ReadOnlyAdminMixin

from . import actions
from .models import Notification, SmsMessage, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active", "secret"]

    def clean_events(self):
        events = self.cleaned_data.get("events") or []
        if not isinstance(events, list) or not all(isinstance(e, str) and e.strip() for e in events):
            raise forms.ValidationError(_('A list of event names, e.g. ["case.created"], or [] for all.'))
        return [e.strip() for e in events]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "events", "is_active", "secret"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox. Rows are written by the code; the only change here is "send again" for failed ones."""

    list_display = [
        "id",
        "created_at",
        "channel",
        "recipient",
        "masked_phone",
        "endpoint",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "read_at",
    ]
    list_filter = ["channel", "status"]
    search_fields = ["subject", "dedupe_key", "recipient__username", "recipient__full_name"]
    list_select_related = ["recipient", "endpoint"]
    date_hierarchy = "created_at"
    fields = [
        "channel",
        "recipient",
        "masked_phone",
        "endpoint",
        "subject",
        "body",
        "url",
        "payload",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "sent_at",
        "last_error",
        "read_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.masked_phone

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send failed notifications again"), permissions=["view"])
    def send_again(self, request, queryset):
        count = sum(actions.retry(notification) for notification in queryset)
        self.message_user(
            request,
            ngettext("%(count)d notification queued again.", "%(count)d notifications queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the development SMS backend would have sent: a read-only list."""

    list_display = ["created_at", "phone_masked", "body", "notification"]
    search_fields = ["body"]
    date_hierarchy = "created_at"
    fields = ["created_at", "phone_masked", "body", "notification"]
    readonly_fields = fields
