"""The audit app's own actions."""

from django.utils.translation import gettext_lazy as _

from .models import AuditEvent
from .registry import register_actions, register_targets
from .services import access_record

ACTIONS = register_actions({
    "audit.exported": _("exported the audit log"),
    "audit.checkpoint": _("wrote a checkpoint of the audit log"),
    "audit.viewed": _("viewed the audit log"),
})
register_targets("audit.auditevent")


def audit_viewed_event(*, actor, filters: str, target=None):
    """A read of the audit log: its page (each page and filter), the API's list, or one API record."""
    return access_record(actor=actor, action="audit.viewed", target=target or (AuditEvent, filters))


def audit_exported_event(*, actor, filters: str):
    return access_record(actor=actor, action="audit.exported", target=(AuditEvent, filters))
