"""Payments received (回款): recorded (idempotently, allocated to installments) and reversed."""

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, permission_denied

from .. import events, money, policies, totals
from ..errors import FinanceErrorCode
from ..models import (
    Installment,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
)
from .common import (
    LIVE_INSTALLMENTS,
    _amount,
    _date,
    _invalid,
    _lock_contract,
    _reason,
    _text,
    _today,
    money_text,
)


def fingerprint(data: Mapping[str, Any]) -> str:
    """A request's identity for its Idempotency-Key: the same key with another request is a conflict."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _replayed(actor, key: str, print_: str) -> Payment | None:
    if not key:
        return None
    payment = Payment.objects.filter(created_by=actor, idempotency_key=key).first()
    if payment is not None and print_ and payment.request_fingerprint != print_:
        raise ApplicationError(FinanceErrorCode.IDEMPOTENCY_CONFLICT,
                               _("This Idempotency-Key was already used for another request."))
    return payment


def _open_items(installments) -> list[money.OpenItem]:
    return [money.OpenItem(row.pk, row.due_date, row.position, row.outstanding) for row in installments
            if row.status in LIVE_INSTALLMENTS and row.outstanding > 0]


def _allocation_error(error: money.AllocationError, positions: dict[int, int]) -> ApplicationError:
    messages = {
        "unknown": _("This installment is not open on this contract."),
        "not_positive": _("The amount must be greater than zero."),
        "over_installment": _("More than this installment still owes."),
        "over_payment": _("The allocations add up to more than the payment."),
    }
    field = f"allocations.{error.key}" if error.key is not None else "allocations"
    message = messages[error.reason]
    if error.key in positions:
        message = _("Installment %(n)d: %(reason)s") % {"n": positions[error.key], "reason": message}
    return ApplicationError(FinanceErrorCode.ALLOCATION_INVALID, message, fields={field: [message]})


def payment_record(*, actor, contract: Contract, data: Mapping[str, Any],
                   allocations: Mapping[Any, Any] | None = None, as_advance: bool = False,
                   idempotency_key: str = "", request_fingerprint: str = "") -> tuple[Payment, bool]:
    """Record a payment received on `contract` (finance): `data` has `received_on`, `amount`, and
    optionally `currency` (must be the contract's), `method`, `bank_reference`, `payer`, `note`.

    Allocated to the open installments oldest first, or as `allocations` says (installment id →
    amount). What no installment owes is refused, unless `as_advance`: then it is kept as an advance.
    A contract that owes nothing (not signed, cancelled) takes only an advance. With an
    `idempotency_key`, a replay returns the payment the first request recorded. Returns the payment
    and whether it was recorded now (False: a replay)."""
    key = _text(idempotency_key, "idempotency_key", 100)
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_record_payment(actor, contract):
            raise permission_denied()
        replay = _replayed(actor, key, request_fingerprint)
        if replay is not None:
            if replay.contract_id != contract.pk:
                raise ApplicationError(FinanceErrorCode.IDEMPOTENCY_CONFLICT,
                                       _("This Idempotency-Key was already used for another request."))
            return replay, False
        currency = _text(data.get("currency") or contract.currency, "currency", 3).upper()
        if currency != contract.currency:
            raise ApplicationError(FinanceErrorCode.CURRENCY_MISMATCH,
                                   _("This contract is in %(currency)s; record the payment in %(currency)s.") % {
                                       "currency": contract.currency},
                                   fields={"currency": [_("Must be the contract's currency.")]})
        amount = _amount(data.get("amount"), currency, "amount")
        received_on = _date(data.get("received_on"), "received_on")
        if received_on > _today():
            raise _invalid({"received_on": [_("A payment cannot be received in the future.")]})
        method = data.get("method") or PaymentMethod.BANK_TRANSFER
        if method not in PaymentMethod.values:
            raise _invalid({"method": [_("Choose one of the payment methods.")]})

        installments = list(Installment.objects.select_for_update().filter(contract=contract).order_by("pk"))
        positions = {row.pk: row.position for row in installments}
        owing = contract.status in policies.OWING_STATUSES
        items = _open_items(installments) if owing else []
        manual = None
        if allocations:
            if not isinstance(allocations, Mapping):
                raise _invalid({"allocations": [_("Give each installment's amount.")]})
            manual = {}
            for raw_key, raw_amount in allocations.items():
                try:
                    pk = int(raw_key)
                except (TypeError, ValueError):
                    raise _invalid({"allocations": [_("Not one of this plan's installments.")]}) from None
                part = _amount(raw_amount, currency, f"allocations.{pk}", required=False)
                if part is not None:
                    manual[pk] = part
        try:
            split = money.allocate(amount, items, manual)
        except money.AllocationError as error:
            raise _allocation_error(error, positions) from None
        if split.unallocated > 0 and not as_advance:
            if not owing:
                raise ApplicationError(
                    FinanceErrorCode.NOTHING_OWED,
                    _("Nothing is owed on a contract that is %(status)s. Record the money as an advance "
                      "if it was received.") % {"status": contract.get_status_display().lower()},
                    fields={"amount": [_("Nothing is owed on this contract.")]})
            owed = sum((item.outstanding for item in items), Decimal("0"))
            raise ApplicationError(
                FinanceErrorCode.OVERPAYMENT,
                _("The payment is %(extra)s more than the open installments owe (%(owed)s). Correct the "
                  "amount, or record the rest as an advance.") % {
                    "extra": money_text(split.unallocated, currency), "owed": money_text(owed, currency)},
                fields={"amount": [_("More than is owed.")]})

        payment = Payment(
            contract=contract, customer=contract.customer, received_on=received_on, amount=amount,
            currency=currency, method=method,
            bank_reference=_text(data.get("bank_reference"), "bank_reference", 100),
            payer=_text(data.get("payer"), "payer", 200), note=_text(data.get("note"), "note", 1000),
            advance=split.unallocated, created_by=actor, idempotency_key=key,
            request_fingerprint=request_fingerprint if key else "")
        try:
            payment.full_clean(exclude=["contract", "customer", "created_by"])
        except ValidationError as error:
            raise _invalid(error.message_dict) from None
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:
            # The same key, used at the same moment for another contract's payment.
            raise ApplicationError(FinanceErrorCode.IDEMPOTENCY_CONFLICT,
                                   _("This Idempotency-Key was already used for another request.")) from None
        by_pk = {row.pk: row for row in installments}
        lines = {}
        for pk, part in split.allocations.items():
            row = by_pk[pk]
            PaymentAllocation.objects.create(payment=payment, installment=row, amount=part)
            row.received += part
            if row.received >= row.amount and row.paid_on is None:
                row.paid_on = received_on
            row.save(update_fields=["received", "paid_on"])
            lines[f"#{row.position}"] = money_text(part, currency)
        changes = {"amount": money_text(amount, currency), "received_on": received_on.isoformat(),
                   "method": str(PaymentMethod(method).label), "allocations": lines}
        if payment.advance:
            changes["advance"] = money_text(payment.advance, currency)
        for name in ("bank_reference", "payer"):
            if getattr(payment, name):
                changes[name] = getattr(payment, name)
        totals.keep(contract)
        events.payment_event(actor=actor, action="payment.recorded", payment=payment, changes=changes)
        return payment, True


def payment_reverse(*, actor, payment: Payment, reason: str) -> Payment:
    """Reverse a payment recorded by mistake (finance): it stays, marked reversed with the reason, and
    what it paid is owed again."""
    reason = _reason(reason)
    with transaction.atomic():
        contract = _lock_contract(payment.contract)
        installments = {row.pk: row for row in Installment.objects.select_for_update().filter(contract=contract)
                        .order_by("pk")}
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if not policies.can_reverse_payment(actor, payment):
            raise permission_denied()
        if payment.status == PaymentStatus.REVERSED:
            raise ApplicationError(FinanceErrorCode.ALREADY_REVERSED, _("This payment was already reversed."))
        lines = {}
        for allocation in payment.allocations.all():
            row = installments[allocation.installment_id]
            row.received -= allocation.amount
            if row.received < row.amount:
                row.paid_on = None
            row.save(update_fields=["received", "paid_on"])
            lines[f"#{row.position}"] = money_text(allocation.amount, payment.currency)
        payment.status = PaymentStatus.REVERSED
        payment.reversed_at = timezone.now()
        payment.reversed_by = actor
        payment.reversal_reason = reason
        payment.save(update_fields=["status", "reversed_at", "reversed_by", "reversal_reason", "updated_at"])
        totals.keep(contract)
        events.payment_event(actor=actor, action="payment.reversed", payment=payment, changes={
            "amount": money_text(payment.amount, payment.currency), "received_on": payment.received_on.isoformat(),
            "allocations": lines, "reversal_reason": reason})
        return payment
