"""Stable error codes of the accounts app (tests and API clients branch on these, never on wording)."""

from enum import StrEnum

from qiyue.core.errors import register_statuses


class AccountErrorCode(StrEnum):
    # Two-factor sign-in.
    INVALID_CODE = "invalid_code"
    WRONG_PASSWORD = "wrong_password"
    CODE_THROTTLED = "code_throttled"
    TWO_FACTOR_ALREADY_ON = "two_factor_already_on"
    TWO_FACTOR_OFF = "two_factor_off"
    TWO_FACTOR_REQUIRED = "two_factor_required"
    TWO_FACTOR_PENDING = "two_factor_pending"


register_statuses({
    AccountErrorCode.INVALID_CODE: 400,
    AccountErrorCode.WRONG_PASSWORD: 400,
    AccountErrorCode.CODE_THROTTLED: 429,
    AccountErrorCode.TWO_FACTOR_ALREADY_ON: 409,
    AccountErrorCode.TWO_FACTOR_OFF: 409,
    AccountErrorCode.TWO_FACTOR_REQUIRED: 403,
    AccountErrorCode.TWO_FACTOR_PENDING: 403,
})
