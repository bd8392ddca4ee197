from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "qiyue.finance"
    label = "finance"
    verbose_name = _("Execution and money")

    def ready(self):
        from django.db.models.signals import post_migrate

        from qiyue.contracts.signals import contract_transitioned

        from . import errors, events, services  # noqa: F401  (the error statuses, the audit actions)

        contract_transitioned.connect(services.on_contract_transitioned, dispatch_uid="finance.on_transitioned")
        post_migrate.connect(_reinstall_triggers, sender=self)


def _reinstall_triggers(sender, using="default", plan=None, **kwargs):
    # As qiyue.contracts does for its statistics: SQLite drops a table's triggers when a migration
    # rebuilds it, so they are put back after every migrate that did anything.
    if plan:
        from .triggers import install_scope_triggers

        install_scope_triggers(using)
