import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "qiyue.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from qiyue.core.jobs import register_periodic_job

        from . import delivery, events  # noqa: F401  (the audit actions)

        register_periodic_job("notifications.email_sweep", delivery.sweep, every=datetime.timedelta(minutes=5))
        register_periodic_job("notifications.daily_digest", delivery.send_digests,
                              every=datetime.timedelta(minutes=15))
