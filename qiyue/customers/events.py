"""The customers app's audit actions, their labels and one small function per event."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions, register_targets
from qiyue.audit.services import access_record, audit_record

ACTIONS = register_actions({
    "customer.created": _("created the customer"),
    "customer.updated": _("updated the customer"),
    "customer.viewed": _("viewed the customer"),
    "contact.created": _("added a contact"),
    "contact.updated": _("updated a contact"),
    "contact.deleted": _("removed a contact"),
    "communication.created": _("recorded a communication"),
})
register_targets("customers.customer", "customers.contact", "customers.communication")


def customer_created_event(*, actor, customer, changes):
    return audit_record(actor=actor, action="customer.created", target=customer, changes=changes)


def customer_updated_event(*, actor, customer, changes):
    return audit_record(actor=actor, action="customer.updated", target=customer, changes=changes)


def customer_viewed_event(*, actor, customer):
    return access_record(actor=actor, action="customer.viewed", target=customer)


def contact_created_event(*, actor, contact, changes):
    return audit_record(actor=actor, action="contact.created", target=contact, changes=changes,
                        related=[contact.customer])


def contact_updated_event(*, actor, contact, changes):
    return audit_record(actor=actor, action="contact.updated", target=contact, changes=changes,
                        related=[contact.customer])


def contact_deleted_event(*, actor, contact, changes):
    return audit_record(actor=actor, action="contact.deleted", target=contact, changes=changes,
                        related=[contact.customer])


def communication_created_event(*, actor, communication, changes):
    # On the customer's timeline, and on the contract's when it is about one.
    return audit_record(actor=actor, action="communication.created", target=communication, changes=changes,
                        related=[communication.contract, communication.customer])
