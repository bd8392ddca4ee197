from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "qiyue.finance"
    label = "finance"
    verbose_name = _("Execution and money")

    def ready(self):
        from qiyue.contracts.signals import contract_transitioned

        from . import errors, events, services  # noqa: F401  (the error statuses, the audit actions)

        contract_transitioned.connect(services.on_contract_transitioned, dispatch_uid="finance.on_transitioned")
