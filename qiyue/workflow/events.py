"""The workflow app's audit actions. Approval events target the contract (they show on its timeline
and roll up to its customer); a flow's target the flow."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions, register_change_labels, register_targets
from qiyue.audit.services import access_record, audit_record

ACTIONS = register_actions({
    "contract.prereviewed": _("ran the pre-review"),
    "approval.started": _("started the approval"),
    "approval.step_approved": _("approved a step"),
    "approval.task_approved": _("approved"),
    "approval.rejected": _("rejected the contract"),
    "approval.returned": _("returned the approval to an earlier step"),
    "approval.transferred": _("transferred an approval task"),
    "approval.approver_added": _("added an approver"),
    "approval.withdrawn": _("withdrew the contract from approval"),
    "approval.urged": _("urged the approvers"),
    "approval.commented": _("commented on the approval"),
    "approval.completed": _("completed the approval"),
    "approval.voided": _("voided the approval"),
    "approval.form_printed": _("printed the approval form"),
    "approval_flow.created": _("created the approval flow"),
    "approval_flow.updated": _("updated the approval flow"),
    "exchange_rate.saved": _("set an exchange rate"),
    "prereview_rule.saved": _("saved a pre-review rule"),
})

register_targets("workflow.approvalflow", "workflow.prereviewrule", "contracts.exchangerate")

register_change_labels({
    "risk_level": _("risk level"),
    "findings": _("findings"),
    "flow": _("approval flow"),
    "step": _("step"),
    "steps": _("steps"),
    "skipped": _("skipped steps"),
    "approvers": _("approvers"),
    "on_behalf_of": _("on behalf of"),
    "checklist": _("checklist"),
    "comment": _("comment"),
    "to": _("to"),
    "added": _("added approver"),
    "position": _("position"),
    "conditions": _("applies when"),
    "is_default": _("default flow"),
    "flow_version": _("flow version"),
    "attachment": _("attachment"),
    "rate": _("rate"),
    "patterns": _("patterns"),
    "natures": _("natures"),
    "params": _("limits"),
    "severity": _("severity"),
    "label_zh": _("Chinese label"),
    "label_en": _("English label"),
})


def contract_prereviewed_event(*, actor, contract, risk_level: str, problems: list[str]):
    return audit_record(actor=actor, action="contract.prereviewed", target=contract,
                        related=[contract.customer],
                        changes={"risk_level": risk_level, "findings": problems})


def approval_event(*, actor, action: str, contract, changes: dict):
    """One event of a contract's approval, on the contract's timeline."""
    return audit_record(actor=actor, action=action, target=contract, related=[contract.customer], changes=changes)


def flow_event(*, actor, flow, created: bool, changes: dict):
    return audit_record(actor=actor, action="approval_flow.created" if created else "approval_flow.updated",
                        target=flow, changes=changes)



def approval_settings_event(*, actor, target, action: str, changes: dict):
    return audit_record(actor=actor, action=action, target=target, changes=changes)


def approval_form_printed_event(*, actor, contract):
    return access_record(actor=actor, action="approval.form_printed", target=contract, related=[contract.customer])
