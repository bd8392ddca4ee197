from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "qiyue.reminders"
    label = "reminders"
    verbose_name = _("Reminders")

    def ready(self):
        from . import events, jobs, notices  # noqa: F401  (audit actions, the periodic scan, notification kinds)
