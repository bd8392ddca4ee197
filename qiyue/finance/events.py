"""The finance app's audit actions. Every event targets its contract's child (a payment, an
obligation) or the contract itself (its plan), and rolls up to the contract and its customer, so it
shows on both timelines."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions, register_change_labels, register_targets
from qiyue.audit.services import audit_record

ACTIONS = register_actions({
    "payment_plan.saved": _("changed the payment plan"),
    "payment.recorded": _("recorded a payment"),
    "payment.reversed": _("reversed a payment"),
    "obligation.created": _("added an obligation"),
    "obligation.updated": _("changed an obligation"),
    "obligation.done": _("completed an obligation"),
    "obligation.waived": _("waived an obligation"),
    "obligation.reopened": _("reopened an obligation"),
    "invoice.requested": _("requested an invoice"),
    "invoice.issued": _("recorded an issued invoice"),
    "invoice.withdrawn": _("withdrew an invoice request"),
    "invoice.voided": _("voided an invoice"),
    "invoice.red_letter": _("recorded a red-letter invoice"),
    "receivables.exported": _("exported receivables"),
    "issue.created": _("noted an issue or risk"),
    "issue.updated": _("changed an issue or risk"),
    "issue.resolved": _("resolved an issue or risk"),
    "issue.reopened": _("reopened an issue or risk"),
})

register_targets("finance.payment", "finance.obligation", "finance.invoice", "finance.contractissue")

register_change_labels({
    "installments": _("installments"),
    "unplanned": _("unplanned"),
    "received_on": _("received on"),
    "method": _("method"),
    "bank_reference": _("bank reference"),
    "payer": _("payer"),
    "allocations": _("allocated"),
    "advance": _("advance"),
    "reversal_reason": _("reason for the reversal"),
    "party": _("owed by"),
    "due_date": _("due date"),
    "done_on": _("done on"),
    "evidence": _("evidence"),
    "installments_due": _("installments now due"),
    "claims": _("kept as claims"),
    "cancelled_installments": _("cancelled installments"),
    "cancelled_obligations": _("cancelled obligations"),
    "red_letter": _("red-letter invoice"),
    "invoiced": _("invoiced"),
})


def plan_saved_event(*, actor, contract, changes: dict):
    return audit_record(actor=actor, action="payment_plan.saved", target=contract, related=[contract.customer],
                        changes=changes)


def payment_event(*, actor, action: str, payment, changes: dict):
    return audit_record(actor=actor, action=action, target=payment,
                        related=[payment.contract, payment.customer], changes=changes)


def obligation_event(*, actor, action: str, obligation, changes: dict):
    contract = obligation.contract
    return audit_record(actor=actor, action=action, target=obligation, related=[contract, contract.customer],
                        changes=changes)


def invoice_event(*, actor, action: str, invoice, changes: dict):
    return audit_record(actor=actor, action=action, target=invoice, related=[invoice.contract, invoice.customer],
                        changes=changes)


def issue_event(*, actor, action: str, issue, changes: dict):
    contract = issue.contract
    return audit_record(actor=actor, action=action, target=issue, related=[contract, contract.customer],
                        changes=changes)
