from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wangge.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.apps import apps
        from django.contrib.auth.signals import user_logged_in

        from .twofactor import shorten_staff_session

        user_logged_in.connect(shorten_staff_session, dispatch_uid="accounts-staff-session")
        # django-otp names its app and model in English only: the admin shows them in the UI language.
        totp = apps.get_app_config("otp_totp")
        totp.verbose_name = _("Two-step verification")
        device = totp.get_model("TOTPDevice")
        device._meta.verbose_name = _("authenticator")
        device._meta.verbose_name_plural = _("authenticators")
