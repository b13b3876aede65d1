from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProactiveConfig(AppConfig):
    name = "wangge.proactive"
    verbose_name = _("Proactive work")
    default_auto_field = "django.db.models.BigAutoField"
