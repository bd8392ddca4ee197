from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "qiyue.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from . import events  # noqa: F401  (declares this app's audit actions)
