from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "wangge.hotline"
    verbose_name = _("12345 hotline")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wangge.cases.actions import OUTCOME_LISTENERS

        from .actions import tell_linked_callers

        OUTCOME_LISTENERS.append(tell_linked_callers)
