"""Writes of execution and money: the payment plan, payments and their reversal, obligations.

Every write locks the contract first (then its plan, installments and payments, in primary-key order),
so two payments on one contract, or a payment and a plan edit, never over-allocate an installment;
every write is audited in its own transaction.
"""

import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.contracts.policies import can_see_contract
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.money import fits_minor_unit, format_money
from qiyue.core.services import audit_value, model_update

from . import events, money, policies, totals
from .errors import FinanceErrorCode
from .models import (
    Installment,
    InstallmentStatus,
    Obligation,
    ObligationStatus,
    Party,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentPlan,
    PaymentStatus,
)

# More installments than any real plan has; a longer list is refused, not stored.
MAX_INSTALLMENTS = 120
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


# --- The payment plan ---------------------------------------------------------------------------------

def _plan_line(row: Installment) -> str:
    """An installment as the audit log keeps it: "#2 2026-03-31 30,000.00 CNY (30 days after acceptance)"."""
    due = row.due_date.isoformat() if row.due_date else _("date not yet known")
    line = f"#{row.position} {due} {money_text(row.amount, row.currency)}"
    if row.condition:
        line += f" ({row.condition})"
    return line



def _clean_row(index: int, raw: Mapping[str, Any], contract: Contract, obligations: dict[int, Obligation]) -> dict:
    prefix = f"installments.{index}"
    if not isinstance(raw, Mapping):
        raise _invalid({"installments": [_("Installment %(n)d is not valid.") % {"n": index + 1}]})
    obligation = None
    obligation_id = raw.get("obligation")
    if obligation_id not in (None, ""):
        obligation_id = getattr(obligation_id, "pk", obligation_id)
        try:
            obligation = obligations[int(obligation_id)]
        except (KeyError, TypeError, ValueError):
            raise _invalid({f"{prefix}.obligation": [_("Choose one of this contract's obligations.")]}) from None
    days_after = raw.get("days_after") or 0
    try:
        days_after = int(days_after)
    except (TypeError, ValueError):
        raise _invalid({f"{prefix}.days_after": [_("Enter a whole number.")]}) from None
    if not 0 <= days_after <= 3650:
        raise _invalid({f"{prefix}.days_after": [_("Enter a number of days from 0 to 3650.")]})
    if obligation is not None:
        # The milestone sets the date: done → done date plus the days; not yet done → not yet known.
        due_date = money.add_days(obligation.done_on, days_after) if obligation.status == ObligationStatus.DONE else None
    else:
        due_date = _date(raw.get("due_date"), f"{prefix}.due_date")
    row_id = raw.get("id")
    if row_id not in (None, ""):
        try:
            row_id = int(row_id)
        except (TypeError, ValueError):
            raise _invalid({f"{prefix}.id": [_("Not one of this plan's installments.")]}) from None
    return {
        "id": row_id or None,
        "due_date": due_date,
        "amount": _amount(raw.get("amount"), contract.currency, f"{prefix}.amount"),
        "condition": _text(raw.get("condition"), f"{prefix}.condition", 300),
        "obligation": obligation,
        "days_after": days_after if obligation is not None else 0,
    }


def payment_plan_save(*, actor, contract: Contract, installments: Sequence[Mapping[str, Any]],
                      expected_version: int | None) -> PaymentPlan:
    """Replace the contract's open installments with `installments`, in order (each: optional `id` of
    an installment kept, `amount`, `due_date` or an `obligation` with `days_after`, `condition`).

    An installment with money received stays (it can shrink to what it received, not below) and
    cancelled ones are left as they are. The plan may leave part of the contract unplanned (shown),
    never plan beyond it. `expected_version` is the plan's version the editor saw (stale → 409)."""
    if not isinstance(installments, Sequence) or isinstance(installments, (str, bytes)):
        raise _invalid({"installments": [_("Give a list of installments.")]})
    if len(installments) > MAX_INSTALLMENTS:
        raise _invalid({"installments": [_("At most %(n)d installments.") % {"n": MAX_INSTALLMENTS}]})
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_edit_plan(actor, contract):
            raise permission_denied()
        plan, created = PaymentPlan.objects.select_for_update().get_or_create(contract=contract)
        # No plan yet reads as version 0 (selectors.contract_money, the API's `plan_version`).
        seen = (0, plan.version) if created else (plan.version,)
        if expected_version is not None and int(expected_version) not in seen:
            raise stale_version_error()
        current = {row.pk: row for row in Installment.objects.select_for_update().filter(contract=contract)
                   .order_by("pk")}
        obligations = {o.pk: o for o in contract.obligations.exclude(status=ObligationStatus.CANCELLED)}
        rows = [_clean_row(i, raw, contract, obligations) for i, raw in enumerate(installments)]

        editable = {pk: row for pk, row in current.items() if row.status in LIVE_INSTALLMENTS}
        seen = set()
        for index, row in enumerate(rows):
            if row["id"] is None:
                continue
            existing = editable.get(row["id"])
            if existing is None or row["id"] in seen:
                raise _invalid({f"installments.{index}.id": [_("Not one of this plan's installments.")]})
            seen.add(row["id"])
            if row["amount"] < existing.received:
                raise ApplicationError(
                    FinanceErrorCode.INSTALLMENT_HAS_PAYMENTS,
                    _("Installment %(n)d has received %(received)s; it cannot owe less than that.") % {
                        "n": index + 1, "received": money_text(existing.received, existing.currency)},
                    fields={f"installments.{index}.amount": [_("At least what it has received.")]})
        dropped = [row for pk, row in editable.items() if pk not in seen]
        for row in dropped:
            if row.received > 0 or row.allocations.exists():
                raise ApplicationError(
                    FinanceErrorCode.INSTALLMENT_HAS_PAYMENTS,
                    _("Installment %(n)d has payments allocated to it; it cannot be removed. Reverse its "
                      "payments first.") % {"n": row.position},
                    fields={"installments": [_("An installment with payments cannot be removed.")]})

        kept_total = sum((row.amount for row in current.values() if row.status == InstallmentStatus.CLAIM
                          and row.pk not in seen), Decimal("0"))
        planned = sum((row["amount"] for row in rows), Decimal("0")) + kept_total
        if planned > contract.amount:
            raise ApplicationError(
                FinanceErrorCode.PLAN_EXCEEDS_CONTRACT,
                _("The installments add up to %(planned)s, more than the contract amount %(amount)s.") % {
                    "planned": money_text(planned, contract.currency), "amount": money_text(contract.amount, contract.currency)},
                fields={"installments": [_("The plan cannot exceed the contract amount.")]})

        before = [_plan_line(row) for row in sorted(current.values(), key=lambda r: r.position)
                  if row.status in LIVE_INSTALLMENTS]
        for row in dropped:
            row.delete()
        # New positions follow the list; cancelled installments keep theirs after the live ones.
        # Move every kept row out of the way first: (contract, position) is unique.
        survivors = [row for pk, row in current.items() if pk not in {d.pk for d in dropped}]
        for row in survivors:
            Installment.objects.filter(pk=row.pk).update(position=row.position + 10000)
        position = 0
        for row in rows:
            position += 1
            installment = editable[row["id"]] if row["id"] else Installment(contract=contract,
                                                                          currency=contract.currency)
            installment.position = position
            installment.due_date = row["due_date"]
            installment.amount = row["amount"]
            installment.currency = contract.currency
            installment.condition = row["condition"]
            installment.obligation = row["obligation"]
            installment.days_after = row["days_after"]
            if installment.received < installment.amount:
                installment.paid_on = None
            installment.full_clean(exclude=["contract", "obligation"], validate_unique=False)
            installment.save()
        for row in sorted((r for r in survivors if r.pk not in seen), key=lambda r: r.position):
            position += 1
            Installment.objects.filter(pk=row.pk).update(position=position)

        plan.version += 1
        plan.updated_by = actor if getattr(actor, "pk", None) else None
        plan.save()
        totals.keep(contract)
        after = [_plan_line(row) for row in Installment.objects.filter(contract=contract, status__in=LIVE_INSTALLMENTS)
                 .order_by("position")]
        if before != after:
            events.plan_saved_event(actor=actor, contract=contract, changes={
                "installments": [before, after],
                "unplanned": money_text(money.plan_gap(contract.amount, [r["amount"] for r in rows]) - kept_total,
                                    contract.currency),
            })
        return plan


# --- Payments ---------------------------------------------------------------------------------------

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


# --- Obligations ------------------------------------------------------------------------------------

OBLIGATION_FIELDS = ("party", "description", "due_date", "owner")


def _clean_obligation(contract: Contract, data: Mapping[str, Any], *, partial: bool) -> dict:
    clean = {}
    if not partial or "party" in data:
        party = data.get("party") or Party.OURS
        if party not in Party.values:
            raise _invalid({"party": [_("Choose who owes it.")]})
        clean["party"] = party
    if not partial or "description" in data:
        clean["description"] = _text(data.get("description"), "description", 500, required=True)
    if not partial or "due_date" in data:
        clean["due_date"] = _date(data.get("due_date"), "due_date", required=False)
    if not partial or "owner" in data:
        owner = data.get("owner")
        if owner in (None, ""):
            clean["owner"] = None
        else:
            if not hasattr(owner, "pk"):
                try:
                    owner = get_user_model().objects.filter(pk=int(owner)).first()
                except (TypeError, ValueError):
                    owner = None
            if owner is None or not owner.is_active or not can_see_contract(owner, contract):
                raise _invalid({"owner": [_("Choose an active user who can see this contract.")]})
            clean["owner"] = owner
    return clean


def _lock_obligation(obligation: Obligation) -> tuple[Contract, Obligation]:
    contract = _lock_contract(obligation.contract)
    row = Obligation.objects.select_for_update().select_related("contract", "contract__customer").filter(
        pk=obligation.pk, contract=contract).first()
    if row is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    row.contract = contract
    return contract, row


def _check_version(obligation: Obligation, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != obligation.version:
        raise stale_version_error()


def obligation_create(*, actor, contract: Contract, data: Mapping[str, Any]) -> Obligation:
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        obligation = Obligation(contract=contract, **_clean_obligation(contract, data, partial=False))
        obligation.full_clean(exclude=["contract", "owner", "evidence"])
        obligation.save()
        events.obligation_event(actor=actor, action="obligation.created", obligation=obligation, changes={
            name: audit_value(getattr(obligation, name)) for name in OBLIGATION_FIELDS if getattr(obligation, name)})
        return obligation


def obligation_update(*, actor, obligation: Obligation, data: Mapping[str, Any],
                      expected_version: int | None) -> Obligation:
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        _check_version(obligation, expected_version)
        if obligation.status == ObligationStatus.CANCELLED:
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation was cancelled."))
        changes = model_update(instance=obligation, fields=OBLIGATION_FIELDS,
                               data=_clean_obligation(contract, data, partial=True))
        if changes:
            obligation.version += 1
            obligation.full_clean(exclude=["contract", "owner", "evidence"])
            obligation.save()
            events.obligation_event(actor=actor, action="obligation.updated", obligation=obligation, changes=changes)
        return obligation


def _set_linked_due_dates(obligation: Obligation) -> list[str]:
    """The installments that wait for `obligation`: due `days_after` its completion, or again unknown."""
    lines = []
    for row in Installment.objects.select_for_update().filter(obligation=obligation, status__in=LIVE_INSTALLMENTS):
        due = money.add_days(obligation.done_on, row.days_after) if obligation.status == ObligationStatus.DONE else None
        if row.due_date != due:
            row.due_date = due
            row.save(update_fields=["due_date"])
            lines.append(_plan_line(row))
    return lines


def obligation_complete(*, actor, obligation: Obligation, done_on: Any, evidence=None,
                        expected_version: int | None = None) -> Obligation:
    """Mark an obligation done on `done_on` (not in the future), with an optional evidence document of
    the contract; installments that wait for it become due."""
    done_on = _date(done_on, "done_on")
    if done_on > _today():
        raise _invalid({"done_on": [_("The date cannot be in the future.")]})
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_close_obligation(actor, obligation):
            raise permission_denied()
        _check_version(obligation, expected_version)
        if obligation.status != ObligationStatus.OPEN:
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation is no longer open."))
        if evidence not in (None, ""):
            from qiyue.documents.models import Document

            evidence_id = getattr(evidence, "pk", evidence)
            try:
                evidence = Document.objects.filter(pk=int(evidence_id), contract=contract).first()
            except (TypeError, ValueError):
                evidence = None
            if evidence is None:
                raise _invalid({"evidence": [_("Choose one of this contract's documents.")]})
        else:
            evidence = None
        obligation.status = ObligationStatus.DONE
        obligation.done_on = done_on
        obligation.evidence = evidence
        obligation.version += 1
        obligation.save()
        changes = {"status": [ObligationStatus.OPEN.value, ObligationStatus.DONE.value], "done_on": done_on.isoformat()}
        if evidence is not None:
            changes["evidence"] = str(evidence)
        due = _set_linked_due_dates(obligation)
        if due:
            changes["installments_due"] = due
            totals.keep(contract)
        events.obligation_event(actor=actor, action="obligation.done", obligation=obligation, changes=changes)
        return obligation


def obligation_waive(*, actor, obligation: Obligation, reason: str,
                     expected_version: int | None = None) -> Obligation:
    reason = _reason(reason)
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        _check_version(obligation, expected_version)
        if obligation.status != ObligationStatus.OPEN:
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation is no longer open."))
        obligation.status = ObligationStatus.WAIVED
        obligation.status_reason = reason
        obligation.version += 1
        obligation.save()
        events.obligation_event(actor=actor, action="obligation.waived", obligation=obligation, changes={
            "status": [ObligationStatus.OPEN.value, ObligationStatus.WAIVED.value], "reason": reason})
        return obligation


def obligation_reopen(*, actor, obligation: Obligation, expected_version: int | None = None) -> Obligation:
    """Undo a completion or a waiver (recorded by mistake): installments that waited for it wait again."""
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        _check_version(obligation, expected_version)
        if obligation.status not in (ObligationStatus.DONE, ObligationStatus.WAIVED):
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation is not done or waived."))
        before = obligation.status
        obligation.status = ObligationStatus.OPEN
        obligation.done_on = None
        obligation.evidence = None
        obligation.status_reason = ""
        obligation.version += 1
        obligation.save()
        changes = {"status": [before, ObligationStatus.OPEN.value]}
        due = _set_linked_due_dates(obligation)
        if due:
            changes["installments_due"] = due
            totals.keep(contract)
        events.obligation_event(actor=actor, action="obligation.reopened", obligation=obligation, changes=changes)
        return obligation



# --- When a contract ends early -----------------------------------------------------------------------

def on_contract_transitioned(sender, *, contract, name: str, actor, **kwargs) -> None:
    """A terminated contract (解除): what it still owes stays a claim (installments marked so, obligations
    kept open), or is cancelled with the termination, as the one who terminated it said. Runs in the
    transition's transaction, which holds the contract's lock."""
    if name != "terminate":
        return
    termination = getattr(contract, "termination", None)
    keep = termination.keep_claims if termination is not None else True
    reason = _("Ended with the contract's termination.")
    lines = []
    for row in Installment.objects.select_for_update().filter(contract=contract, status=InstallmentStatus.OPEN):
        if row.received >= row.amount:
            continue  # paid: nothing to keep or cancel
        row.status = InstallmentStatus.CLAIM if keep else InstallmentStatus.CANCELLED
        row.status_reason = "" if keep else reason
        row.save(update_fields=["status", "status_reason"])
        lines.append(_plan_line(row))
    obligations = []
    if not keep:
        for obligation in Obligation.objects.select_for_update().filter(contract=contract,
                                                                        status=ObligationStatus.OPEN):
            obligation.status = ObligationStatus.CANCELLED
            obligation.status_reason = reason
            obligation.version += 1
            obligation.save(update_fields=["status", "status_reason", "version", "updated_at"])
            obligations.append(obligation.description)
    if lines or obligations:
        totals.keep(contract)
        events.plan_saved_event(actor=actor, contract=contract, changes={
            "claims" if keep else "cancelled_installments": lines,
            **({"cancelled_obligations": obligations} if obligations else {})})
