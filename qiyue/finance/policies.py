"""Who may do what with a contract's execution and money. Seeing follows the contract (sales read
their own and their team's); money is written by finance (and administrators); obligations by the
contract's editors and finance, and completed also by the person who owns them."""

from qiyue.contracts.models import Status
from qiyue.contracts.policies import can_edit_contract, can_see_contract
from qiyue.core.policies import has_role
from qiyue.core.roles import Role

MONEY_ROLES = frozenset({Role.ADMIN, Role.FINANCE})
# Statuses in which a contract owes money: signed and after (a terminated one keeps its claims).
OWING_STATUSES = frozenset({Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED, Status.TERMINATED})
# Before signing the plan is part of the draft; its editors shape it.
DRAFTING_STATUSES = frozenset({Status.DRAFT})


def can_see_money(user, contract) -> bool:
    return can_see_contract(user, contract)


def is_money_user(user) -> bool:
    return has_role(user, MONEY_ROLES)


def can_edit_plan(user, contract) -> bool:
    """A draft's plan: its editors and finance. Once approved or signed the plan is money already
    agreed: finance (and administrators) change it, audited. A cancelled contract's plan is closed."""
    if not can_see_contract(user, contract) or contract.status == Status.CANCELLED:
        return False
    if is_money_user(user):
        return True
    return contract.status in DRAFTING_STATUSES and can_edit_contract(user, contract)


def can_record_payment(user, contract) -> bool:
    return is_money_user(user) and can_see_contract(user, contract)


def can_reverse_payment(user, payment) -> bool:
    return is_money_user(user) and can_see_contract(user, payment.contract)


def can_manage_obligations(user, contract) -> bool:
    if not can_see_contract(user, contract) or contract.status == Status.CANCELLED:
        return False
    return is_money_user(user) or can_edit_contract(user, contract)


def can_close_obligation(user, obligation) -> bool:
    """Mark done, waive or reopen: whoever manages the contract's obligations, and the obligation's owner."""
    contract = obligation.contract
    if can_manage_obligations(user, contract):
        return True
    return obligation.owner_id == user.pk and can_see_contract(user, contract) and contract.status != Status.CANCELLED


# --- Invoices ---------------------------------------------------------------------------------------

def can_request_invoice(user, contract) -> bool:
    """Sales ask for an invoice on a contract they edit; finance on any they see. Only a contract that
    owes money is invoiced."""
    if not can_see_contract(user, contract) or contract.status not in OWING_STATUSES:
        return False
    return is_money_user(user) or can_edit_contract(user, contract)


def can_record_invoice(user, contract) -> bool:
    """Record what the tax platform issued, void, red-letter, import: finance."""
    return is_money_user(user) and can_see_contract(user, contract)


def can_withdraw_invoice_request(user, invoice) -> bool:
    """A request is taken back by finance or by the one who asked for it."""
    contract = invoice.contract
    if not can_see_contract(user, contract):
        return False
    return is_money_user(user) or (invoice.requested_by_id == user.pk and can_edit_contract(user, contract))


# --- Issues and risks -------------------------------------------------------------------------------

def can_manage_issues(user, contract) -> bool:
    """Note, change, resolve and reopen issues and risks: the contract's editors and finance."""
    return can_manage_obligations(user, contract)


def can_resolve_issue(user, issue) -> bool:
    """Resolve or reopen: whoever manages the contract's issues, and the issue's owner."""
    contract = issue.contract
    if can_manage_issues(user, contract):
        return True
    return issue.owner_id == user.pk and can_see_contract(user, contract) and contract.status != Status.CANCELLED
