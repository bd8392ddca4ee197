"""Stable error codes of the customers app."""

from enum import StrEnum

from qiyue.core.errors import register_statuses


class CustomerErrorCode(StrEnum):
    # A customer with the same normalised name exists; saving again with confirm_duplicate goes ahead.
    DUPLICATE_CUSTOMER = "duplicate_customer"


register_statuses({CustomerErrorCode.DUPLICATE_CUSTOMER: 400})
