from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wangge.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .twofactor import shorten_staff_session

        user_logged_in.connect(shorten_staff_session, dispatch_uid="accounts-staff-session")
