"""The reminders app's audit actions."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions
from qiyue.audit.services import audit_record

ACTIONS = register_actions({
    "reminder_rule.created": _("added a reminder rule"),
    "reminder_rule.updated": _("changed a reminder rule"),
    "type_schedule.updated": _("changed a contract type's automatic status"),
    "calendar_feed.reset": _("reset their calendar feed address"),
})



def rule_created_event(*, actor, rule):
    return audit_record(actor=actor, action="reminder_rule.created", target=rule)


def rule_updated_event(*, actor, rule, changes):
    return audit_record(actor=actor, action="reminder_rule.updated", target=rule, changes=changes)


def type_schedule_updated_event(*, actor, schedule, changes):
    return audit_record(actor=actor, action="type_schedule.updated", target=schedule, changes=changes)


def feed_reset_event(*, actor):
    return audit_record(actor=actor, action="calendar_feed.reset", target=actor)
