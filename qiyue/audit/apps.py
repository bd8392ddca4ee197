from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "qiyue.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self):
        from . import events, security  # noqa: F401  (declare this app's audit actions)
