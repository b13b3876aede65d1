from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SummonsConfig(AppConfig):
    name = "wangge.summons"
    verbose_name = _("Summonses")
    default_auto_field = "django.db.models.BigAutoField"
