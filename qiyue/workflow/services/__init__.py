"""Writes of review and approval: the pre-review, approvals and their decisions, flows."""

from .approvals import (  # noqa: F401
    approval_add_approver,
    approval_comment,
    approval_decide,
    approval_reopen,
    approval_start,
    approval_transfer,
    approval_urge,
    approval_withdraw,
    contract_facts,
    flow_for,
    on_amendment_submitted,
    on_contract_transitioned,
)
from .flow_admin import exchange_rate_save, flow_save, prereview_rule_save  # noqa: F401
from .prereview_runs import prereview_run  # noqa: F401
