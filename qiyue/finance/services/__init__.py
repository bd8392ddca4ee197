"""Writes of execution and money: the payment plan, payments and their reversal, obligations.

Every write locks the contract first (then its plan, installments and payments, in primary-key order),
so two payments on one contract, or a payment and a plan edit, never over-allocate an installment;
every write is audited in its own transaction.
"""

from .common import money_text  # noqa: F401
from .invoice_import import ImportResult, invoice_import  # noqa: F401
from .invoices import (  # noqa: F401
    invoice_issue,
    invoice_record,
    invoice_red_letter,
    invoice_request,
    invoice_void,
    invoice_withdraw,
    red_letter_room,
)
from .issues import issue_create, issue_reopen, issue_resolve, issue_update  # noqa: F401
from .obligations import (  # noqa: F401
    obligation_complete,
    obligation_create,
    obligation_reopen,
    obligation_update,
    obligation_waive,
)
from .payments import fingerprint, payment_record, payment_reverse  # noqa: F401
from .plan import MAX_INSTALLMENTS, on_contract_transitioned, payment_plan_save  # noqa: F401
