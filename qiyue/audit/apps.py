from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "qiyue.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import checks, events, guards, jobs, security  # noqa: F401  (events declares this app's audit actions)

        connection_created.connect(guards._connection_created, dispatch_uid="qiyue.audit.guards")
        post_migrate.connect(guards._post_migrate, sender=self, dispatch_uid="qiyue.audit.guards")
        checks.register()
        jobs.register()
