"""The notifications app's audit actions."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions, register_change_labels
from qiyue.audit.services import audit_record

ACTIONS = register_actions({
    "notification_settings.updated": _("changed their notification settings"),
})

register_change_labels({
    "email_kinds": _("notified by e-mail of"),
    "language": _("language"),
    "app_kinds": _("notified in the app of"),
    "daily_digest": _("daily digest e-mail"),
})


def notification_settings_updated_event(*, actor, changes):
    return audit_record(actor=actor, action="notification_settings.updated", target=actor, changes=changes)
