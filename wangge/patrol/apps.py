from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolConfig(AppConfig):
    name = "wangge.patrol"
    verbose_name = _("Field work")
