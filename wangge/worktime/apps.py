from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorktimeConfig(AppConfig):
    name = "wangge.worktime"
    label = "worktime"
    verbose_name = _("Working time")

    def ready(self):
        # Connects the signals that clear the cached calendar when a day is saved or deleted.
        from . import calendar  # noqa: F401
