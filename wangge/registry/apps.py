from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "wangge.registry"
    label = "registry"
    verbose_name = _("Registers")

    def ready(self):
        from . import revealable  # noqa: F401  (registers the personal-data fields)
