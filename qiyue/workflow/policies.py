"""Who may do what in review and approval."""

from qiyue.contracts import policies as contract_policies
from qiyue.contracts.policies import REVIEWER_ROLES
from qiyue.core.permissions import can_see
from qiyue.core.policies import is_active_user, is_admin

REVIEWERS = REVIEWER_ROLES


def can_run_prereview(user, contract) -> bool:
    """Its editors, and the reviewers who see it."""
    if not getattr(user, "is_authenticated", False) or not can_see(user, contract):
        return False
    return contract_policies.can_edit_contract(user, contract) or user.role in REVIEWERS


def _sponsor(user, contract, approval) -> bool:
    """The contract's owner or the approval's submitter."""
    pk = getattr(user, "pk", None)
    return is_active_user(user) and pk is not None and pk in (contract.owner_id, approval.submitted_by_id)


def can_withdraw(user, contract, approval) -> bool:
    """Take the contract back to draft while nobody has decided (the owner or the submitter)."""
    return _sponsor(user, contract, approval)


def can_urge(user, contract, approval) -> bool:
    return _sponsor(user, contract, approval)


def takes_part(user, contract, approval) -> bool:
    """The owner, the submitter, and whoever holds or held a task of the approval."""
    if _sponsor(user, contract, approval):
        return True
    return is_active_user(user) and approval.tasks.filter(assignee_id=user.pk).exists()


def can_comment(user, contract, approval) -> bool:
    """Those taking part in the approval, and the reviewers who see the contract."""
    if not is_active_user(user) or not can_see(user, contract):
        return False
    return user.role in REVIEWERS or takes_part(user, contract, approval)


def can_reopen(user, contract) -> bool:
    """Reopen an approved contract as a draft (voiding its approval): its editors."""
    return contract.status == "approved" and contract_policies.can_edit_contract(user, contract)


def can_manage_flows(user) -> bool:
    """Configure approval flows, exchange rates and pre-review rules (administrators)."""
    return is_admin(user)
