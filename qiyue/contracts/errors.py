"""Stable error codes of the contracts app (tests and API clients branch on these, never on wording)."""

from enum import StrEnum

from qiyue.core.errors import register_statuses


class ContractErrorCode(StrEnum):
    CONTRACT_CLOSED = "contract_closed"
    FACTS_FROZEN = "facts_frozen"
    INCOMPLETE_FOR_REVIEW = "incomplete_for_review"
    BEFORE_EFFECTIVE_DATE = "before_effective_date"
    # Only the sign transition sets the signing date.
    SIGNING_DATE_READ_ONLY = "signing_date_read_only"
    # The archive: legal hold, retention, soft deletion.
    LEGAL_HOLD = "legal_hold"
    WITHIN_RETENTION = "within_retention"
    HAS_SUPPLEMENTS = "has_supplements"
    # Another amendment of the contract is under way (draft, in review or approved).
    AMENDMENT_OPEN = "amendment_open"
    # A renewal of the contract is already under way (not cancelled).
    ALREADY_RENEWED = "already_renewed"


register_statuses({
    ContractErrorCode.CONTRACT_CLOSED: 409,
    ContractErrorCode.FACTS_FROZEN: 409,
    ContractErrorCode.INCOMPLETE_FOR_REVIEW: 400,
    ContractErrorCode.BEFORE_EFFECTIVE_DATE: 409,
    ContractErrorCode.SIGNING_DATE_READ_ONLY: 400,
    ContractErrorCode.LEGAL_HOLD: 409,
    ContractErrorCode.WITHIN_RETENTION: 409,
    ContractErrorCode.HAS_SUPPLEMENTS: 409,
    ContractErrorCode.AMENDMENT_OPEN: 409,
    ContractErrorCode.ALREADY_RENEWED: 409,
})
