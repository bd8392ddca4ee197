"""The contracts app's audit actions, their labels and one small function per event. A contract's
events roll up to its customer's timeline too."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import (
    register_actions,
    register_change_format_prefix,
    register_change_label_prefix,
    register_change_labels,
    register_targets,
)
from qiyue.audit.services import access_record, audit_record
from qiyue.customers.models import Customer

from .models import Contract

ACTIONS = register_actions({
    "contract.created": _("created the contract"),
    "contract.updated": _("updated the contract"),
    "contract.viewed": _("viewed the contract"),
    "contract.exported": _("exported contracts"),
    "contract.submit": _("submitted for review"),
    "contract.return": _("returned to draft"),
    "contract.approve": _("approved"),
    "contract.withdraw": _("withdrew from review"),
    "contract.amended": _("amended the contract"),
    "amendment.created": _("raised an amendment"),
    "amendment.updated": _("changed an amendment"),
    "amendment.submitted": _("submitted an amendment for approval"),
    "amendment.approved": _("approved an amendment"),
    "amendment.rejected": _("rejected an amendment"),
    "amendment.withdrawn": _("withdrew an amendment from approval"),
    "amendment.cancelled": _("cancelled an amendment"),
    "contract.reopen": _("reopened as a draft"),
    "contract.sign": _("recorded the signing"),
    "contract.activate": _("activated"),
    "contract.complete": _("marked completed"),
    "contract.expire": _("marked expired"),
    "contract.terminate": _("terminated"),
    "contract.renewed": _("started a renewal"),
    "contract.auto_renewed": _("renewed automatically for another term"),
    "contract.cancel": _("cancelled"),
    "contract.legal_hold_set": _("placed a legal hold"),
    "contract.legal_hold_released": _("released the legal hold"),
    "contract.deleted": _("deleted the contract"),
    "retention_policy.updated": _("updated a retention policy"),
    "contract_type.created": _("created the contract type"),
    "contract_type.updated": _("updated the contract type"),
    "custom_field.created": _("added the custom field"),
    "custom_field.updated": _("updated the custom field"),
})


register_change_labels({
    "activated_early": _("activated before its effective date of"),
    "termination": _("termination"),
    "renewed_by": _("renewed by"),
    "amendment": _("amendment"),
    "payment_terms": _("payment terms"),
    "other_terms": _("other terms"),
})
def _custom_field_label(key: str) -> str | None:
    from .models import CustomField

    field = CustomField.objects.filter(key=key).order_by("pk").first()
    return str(field) if field is not None else None


def _custom_field_format(key: str):
    """A custom field's stored value as the page shows it (a choice by its label, yes/no, a person)."""
    from .custom_fields import display_value, from_audit
    from .models import CustomField

    field = CustomField.objects.filter(key=key).order_by("pk").first()
    if field is None:
        return None
    return lambda value: display_value(field, from_audit(field, value))


register_change_label_prefix("cf_", _custom_field_label)
register_change_format_prefix("cf_", _custom_field_format)
register_targets("contracts.contract", "contracts.retentionpolicy", "contracts.contracttype",
                 "contracts.customfield")


def _on_contract(actor, action: str, contract: Contract, changes=None):
    return audit_record(actor=actor, action=action, target=contract, changes=changes,
                        related=[(Customer, contract.customer_id)])


def contract_created_event(*, actor, contract: Contract, changes):
    return _on_contract(actor, "contract.created", contract, changes)


def contract_updated_event(*, actor, contract: Contract, changes):
    return _on_contract(actor, "contract.updated", contract, changes)


def contract_transitioned_event(*, actor, contract: Contract, transition, changes):
    """A status change of the lifecycle table (its action is "contract.<transition name>")."""
    return _on_contract(actor, transition.action, contract, changes)


def contract_renewed_event(*, actor, contract: Contract, successor: Contract):
    """On the contract renewed: its successor (a new draft, whose own creation is its first event)."""
    return _on_contract(actor, "contract.renewed", contract, {"renewed_by": [None, successor.number]})


def contract_auto_renewed_event(*, actor, contract: Contract, changes):
    """The system rolled the expiry forward by one term (the notice deadline passed without notice)."""
    return _on_contract(actor, "contract.auto_renewed", contract, changes)


def contract_legal_hold_event(*, actor, contract: Contract, hold: bool, changes):
    return _on_contract(actor, "contract.legal_hold_set" if hold else "contract.legal_hold_released", contract,
                        changes)


def contract_deleted_event(*, actor, contract: Contract, changes):
    return _on_contract(actor, "contract.deleted", contract, changes)


def contract_viewed_event(*, actor, contract: Contract):
    return access_record(actor=actor, action="contract.viewed", target=contract,
                         related=[(Customer, contract.customer_id)])


def contracts_exported_event(*, actor, count: int, filters: str):
    return access_record(actor=actor, action="contract.exported", target=(Contract, f"{count} contracts: {filters}"))


def retention_policy_updated_event(*, actor, policy, changes):
    return audit_record(actor=actor, action="retention_policy.updated", target=policy, changes=changes)


def contract_type_event(*, actor, contract_type, created: bool, changes):
    action = "contract_type.created" if created else "contract_type.updated"
    return audit_record(actor=actor, action=action, target=contract_type, changes=changes)


def custom_field_event(*, actor, field, created: bool, changes):
    action = "custom_field.created" if created else "custom_field.updated"
    return audit_record(actor=actor, action=action, target=field, changes=changes)


def amendment_event(*, actor, action: str, amendment, changes):
    """An amendment's step, on its contract's timeline."""
    return audit_record(actor=actor, action=action, target=amendment.contract, related=[amendment.contract.customer],
                        changes={"amendment": amendment.number, **changes})


def contract_amended_event(*, actor, contract: Contract, amendment, changes):
    return _on_contract(actor, "contract.amended", contract, {"amendment": amendment.number, **changes})
