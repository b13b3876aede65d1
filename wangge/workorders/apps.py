from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "wangge.workorders"
    verbose_name = _("Work-order exchange")

    def ready(self):
        from . import signals  # noqa: F401  the case events that become pushed states
