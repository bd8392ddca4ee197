from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "qiyue.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import events  # noqa: F401  (declares this app's audit actions)
