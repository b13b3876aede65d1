from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "wangge.insight"
    label = "insight"
    verbose_name = _("Command center and statistics")

    def ready(self):
        from . import receivers  # noqa: F401  (live events and touched days follow every case event)
