from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "qiyue.finance"
    label = "finance"
    verbose_name = _("Execution and money")

    def ready(self):
        from . import errors, events  # noqa: F401  (the error statuses, the audit actions)
