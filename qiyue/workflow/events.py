"""The workflow app's audit actions."""

from django.utils.translation import gettext_lazy as _

from qiyue.audit.registry import register_actions, register_change_labels
from qiyue.audit.services import audit_record

ACTIONS = register_actions({
    "contract.prereviewed": _("ran the pre-review"),
})

register_change_labels({
    "risk_level": _("risk level"),
    "findings": _("findings"),
})


def contract_prereviewed_event(*, actor, contract, risk_level: str, problems: list[str]):
    return audit_record(actor=actor, action="contract.prereviewed", target=contract,
                        related=[contract.customer],
                        changes={"risk_level": risk_level, "findings": problems})
