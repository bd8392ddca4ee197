from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "qiyue.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from qiyue.core.search_kinds import register_search_kind

        from . import events  # noqa: F401  (declares this app's audit actions)
        from .search import CUSTOMER_KIND

        register_search_kind(CUSTOMER_KIND)
