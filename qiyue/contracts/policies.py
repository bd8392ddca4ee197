"""Who may do what with contracts: create, edit, take a lifecycle step, hold, delete, set retention.
Seeing is the scope's (`qiyue.core.permissions`); the views, the API, templates and services ask here."""

from qiyue.core.actors import is_system
from qiyue.core.policies import (
    check_assignment,
    has_role,
    is_active_user,
    is_admin,
    may_create_owned,
    may_edit_owned,
    owns_or_shares_team,
    sees,
)
from qiyue.core.roles import Role

from .retention import NEVER_SIGNED

# Whose role reviews contracts: approval flows name them as approvers.
REVIEWER_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.LEGAL, Role.FINANCE})

__all__ = [
    "can_create_contract", "can_delete_contract", "can_edit_contract", "can_manage_retention",
    "can_see_contract", "can_set_legal_hold", "can_take", "check_assignment", "is_reviewer",
]


def can_see_contract(user, contract) -> bool:
    return sees(user, contract)


def can_create_contract(user) -> bool:
    return may_create_owned(user)


def can_edit_contract(user, contract) -> bool:
    return may_edit_owned(user, contract)


def can_take(user, contract, transition) -> bool:
    """May `user` take this lifecycle step on `contract` (its status is checked separately)? The
    transition table names the roles; admins and legal act on any contract, managers and sales on
    their own and their team's; the system actor takes only the steps the table grants it."""
    if transition.workflow:
        return False  # the approval workflow's own (qiyue.workflow)
    if is_system(user):
        return transition.system
    if not is_active_user(user) or user.role not in transition.roles:
        return False
    if user.role in (Role.ADMIN, Role.LEGAL):
        return True
    return owns_or_shares_team(user, contract)


def is_reviewer(user) -> bool:
    """Whose role reviews contracts (managers only their team's, which the scope enforces)."""
    return has_role(user, REVIEWER_ROLES)


def can_set_legal_hold(user) -> bool:
    """A hold is a legal decision (litigation, investigation, audit): legal and admins place and
    release it. Managers and sales may not, so nobody can lift a hold on their own contract."""
    return has_role(user, {Role.ADMIN, Role.LEGAL})


def can_delete_contract(user, contract) -> bool:
    """Who may (softly) delete `contract`, leaving aside hold, status and retention. A contract that
    was never signed (draft, cancelled) is a working paper: its editors may delete it. A signed
    contract is a business record: only an admin disposes of it, and only after retention."""
    if contract.status in NEVER_SIGNED:
        return can_edit_contract(user, contract)
    return is_admin(user)


def can_manage_retention(user) -> bool:
    return is_admin(user)


def can_manage_contract_types(user) -> bool:
    """Define contract types and their custom fields (administrators)."""
    return is_admin(user)


def can_amend(user, contract) -> bool:
    """Raise, change, submit, sign or cancel an amendment of `contract`: its editors (the status is the
    service's to check)."""
    return can_edit_contract(user, contract)


def can_renew(user, contract) -> bool:
    """Start a renewal: who may create contracts and edit this one."""
    return may_create_owned(user) and can_edit_contract(user, contract)
