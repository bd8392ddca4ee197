"""Who may do what in review and approval."""

from qiyue.contracts import policies as contract_policies
from qiyue.core.permissions import can_see
from qiyue.core.roles import Role

REVIEWERS = frozenset({Role.ADMIN, Role.MANAGER, Role.LEGAL, Role.FINANCE})


def can_run_prereview(user, contract) -> bool:
    """Its editors, and the reviewers who see it."""
    if not getattr(user, "is_authenticated", False) or not can_see(user, contract):
        return False
    return contract_policies.can_edit_contract(user, contract) or user.role in REVIEWERS
