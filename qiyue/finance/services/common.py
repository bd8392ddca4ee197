"""What the finance services share: input cleaning with field errors, the contract lock, money text."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.contracts.policies import can_see_contract
from qiyue.core.errors import ApplicationError, ErrorCode, stale_version_error
from qiyue.core.money import fits_minor_unit, format_money

from ..models import (
    Installment,
    InstallmentStatus,
)

MAX_AMOUNT = Decimal("99999999999999.99")
LIVE_INSTALLMENTS = (InstallmentStatus.OPEN, InstallmentStatus.CLAIM)


def _invalid(fields: dict, message=None) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, message or _("Please correct the errors below."), fields=fields)


def _lock_contract(contract: Contract) -> Contract:
    row = (Contract.objects.select_for_update(of=("self",)).select_related("customer", "owner", "team").live()
           .filter(pk=contract.pk).first())
    if row is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    return row


def _today() -> datetime.date:
    return timezone.localdate()


def _amount(value: Any, currency: str, field: str, *, required: bool = True) -> Decimal | None:
    """A positive amount in `currency`'s minor unit, or a field error."""
    if value in (None, ""):
        if required:
            raise _invalid({field: [_("This field is required.")]})
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise _invalid({field: [_("Enter a number.")]}) from None
    if not amount.is_finite():
        raise _invalid({field: [_("Enter a number.")]})
    if amount <= 0:
        raise _invalid({field: [_("The amount must be greater than zero.")]})
    if amount > MAX_AMOUNT:
        raise _invalid({field: [_("The amount is too large.")]})
    if not fits_minor_unit(amount, currency):
        raise _invalid({field: [_("%(currency)s amounts cannot have this many decimals.") % {"currency": currency}]})
    return amount


def _date(value: Any, field: str, *, required: bool = True) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise _invalid({field: [_("This field is required.")]})
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise _invalid({field: [_("Enter a valid date.")]}) from None


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _invalid({field: [_("This field is required.")]})
    if len(text) > limit:
        raise _invalid({field: [_("At most %(limit)d characters.") % {"limit": limit}]})
    return text


def _reason(value: Any) -> str:
    reason = "" if value is None else str(value).strip()
    if not reason:
        raise ApplicationError(ErrorCode.REASON_REQUIRED, _("Please give a reason."),
                               fields={"reason": [_("A reason is required for this action.")]})
    if len(reason) > 1000:
        raise _invalid({"reason": [_("At most 1000 characters.")]})
    return reason


def money_text(amount: Decimal, currency: str) -> str:
    return f"{format_money(amount, currency)} {currency}"


def _plan_line(row: Installment) -> str:
    """An installment as the audit log keeps it: "#2 2026-03-31 30,000.00 CNY (30 days after acceptance)"."""
    due = row.due_date.isoformat() if row.due_date else _("date not yet known")
    line = f"#{row.position} {due} {money_text(row.amount, row.currency)}"
    if row.condition:
        line += f" ({row.condition})"
    return line


def check_version(row: Any, expected_version: int | None) -> None:
    """The optimistic lock of an obligation, invoice or issue: the `version` the user read (stale → 409)."""
    if expected_version is not None and int(expected_version) != row.version:
        raise stale_version_error()


def clean_owner(value: Any, contract: Contract, field: str = "owner"):
    """Who follows an obligation or an issue: none, or an active user who can see the contract."""
    if value in (None, ""):
        return None
    owner = value
    if not hasattr(owner, "pk"):
        try:
            owner = get_user_model().objects.filter(pk=int(owner)).first()
        except (TypeError, ValueError, OverflowError):
            owner = None
    if owner is None or not owner.is_active or not can_see_contract(owner, contract):
        raise _invalid({field: [_("Choose an active user who can see this contract.")]})
    return owner
