"""Stable error codes of execution and money (tests and API clients branch on these, never on wording)."""

from enum import StrEnum

from qiyue.core.errors import register_statuses


class FinanceErrorCode(StrEnum):
    # The plan's installments add up to more than the contract amount.
    PLAN_EXCEEDS_CONTRACT = "plan_exceeds_contract"
    # An installment would owe less than it has already received, or one with money would go.
    INSTALLMENT_HAS_PAYMENTS = "installment_has_payments"
    # The payment is more than the open installments owe (and was not recorded as an advance).
    OVERPAYMENT = "overpayment"
    # Nothing is owed on this contract (cancelled, never signed): only an advance can be recorded.
    NOTHING_OWED = "nothing_owed"
    # A manual allocation names an installment that is not open, or gives it more than it owes.
    ALLOCATION_INVALID = "allocation_invalid"
    CURRENCY_MISMATCH = "currency_mismatch"
    ALREADY_REVERSED = "already_reversed"
    # The same Idempotency-Key was used before with another request.
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    OBLIGATION_CLOSED = "obligation_closed"
    # Invoices would add up to more than the contract amount: finance only, with a reason.
    INVOICE_EXCEEDS_CONTRACT = "invoice_exceeds_contract"
    # The invoice is not in a state that allows this (issuing an issued one, voiding a request…).
    INVOICE_STATE = "invoice_state"
    # A digital invoice (数电发票) cannot be voided, only reversed by a red-letter invoice; nor can an
    # invoice that already has red-letter invoices.
    INVOICE_CANNOT_VOID = "invoice_cannot_void"
    # Another invoice already has this number (and code).
    INVOICE_NUMBER_TAKEN = "invoice_number_taken"
    # The red-letter invoices would reverse more than the invoice's total.
    RED_LETTER_EXCEEDS = "red_letter_exceeds"
    # Resolving a resolved issue, reopening an open one.
    ISSUE_CLOSED = "issue_state"


register_statuses({
    FinanceErrorCode.PLAN_EXCEEDS_CONTRACT: 400,
    FinanceErrorCode.INSTALLMENT_HAS_PAYMENTS: 409,
    FinanceErrorCode.OVERPAYMENT: 400,
    FinanceErrorCode.NOTHING_OWED: 409,
    FinanceErrorCode.ALLOCATION_INVALID: 400,
    FinanceErrorCode.CURRENCY_MISMATCH: 400,
    FinanceErrorCode.ALREADY_REVERSED: 409,
    FinanceErrorCode.IDEMPOTENCY_CONFLICT: 409,
    FinanceErrorCode.OBLIGATION_CLOSED: 409,
    FinanceErrorCode.INVOICE_EXCEEDS_CONTRACT: 400,
    FinanceErrorCode.INVOICE_STATE: 409,
    FinanceErrorCode.INVOICE_CANNOT_VOID: 409,
    FinanceErrorCode.INVOICE_NUMBER_TAKEN: 409,
    FinanceErrorCode.RED_LETTER_EXCEEDS: 400,
    FinanceErrorCode.ISSUE_CLOSED: 409,
})
