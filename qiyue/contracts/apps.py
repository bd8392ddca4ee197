from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "qiyue.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from django.db.models.signals import post_migrate

        from qiyue.core.search_kinds import register_search_kind
        from qiyue.customers.extensions import register_customer_section, register_linkable_contracts

        from . import customer_page, events, notices  # noqa: F401  (their audit actions, notification kinds)
        from .search import CONTRACT_KIND

        register_customer_section(customer_page.contracts_section)
        register_linkable_contracts(customer_page.linkable_contracts)
        register_search_kind(CONTRACT_KIND)

        post_migrate.connect(_reinstall_stat_triggers, sender=self)


def _reinstall_stat_triggers(sender, using="default", plan=None, **kwargs):
    # SQLite drops a table's triggers whenever a migration rebuilds the table: put them back after
    # every migrate that touched anything, and rebuild the counts they keep; the same for the indexes only
    # SQLite gets (sqlite_indexes.py).
    if plan:
        from .sqlite_indexes import install_sqlite_indexes
        from .stat_triggers import install_stat_triggers

        install_stat_triggers(using)
        install_sqlite_indexes(using)
