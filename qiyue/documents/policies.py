"""Who may do what with documents and paper originals: the people who may edit the contract (or the
customer) a document belongs to. Reading follows the owner's visibility."""

from qiyue.contracts.policies import can_edit_contract
from qiyue.core.policies import may_edit_owned, sees


def document_owner(document):
    """The object whose owner and team decide who may change a document: its contract, else its customer."""
    return document.contract if document.contract_id else document.customer


def can_see_owner(user, owner) -> bool:
    return sees(user, owner)


def can_upload_to(user, owner) -> bool:
    """Upload to a contract or a customer."""
    return may_edit_owned(user, owner)


def can_change_document(user, document) -> bool:
    return may_edit_owned(user, document_owner(document))


def can_manage_paper(user, contract) -> bool:
    """Record, update, lend and take back the paper originals of `contract`."""
    return can_edit_contract(user, contract)
