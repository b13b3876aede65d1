from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "wangge.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from wangge.privacy.revealable import Field, register

        from . import queries
        from .models import Case

        register(
            Case,
            visible=queries.case_list,
            area_path=lambda c: c.area_path,
            reporter_phone=Field("reporter phone", "phone", lambda c: c.reporter_phone),
        )
