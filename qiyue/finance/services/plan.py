"""The payment plan (回款计划): its installments, and what a terminated contract leaves of them."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, permission_denied, stale_version_error

from .. import events, money, policies, totals
from ..errors import FinanceErrorCode
from ..models import (
    Installment,
    InstallmentStatus,
    Obligation,
    ObligationStatus,
    PaymentPlan,
)
from .common import (
    LIVE_INSTALLMENTS,
    _amount,
    _date,
    _invalid,
    _lock_contract,
    _plan_line,
    _text,
    money_text,
)

MAX_INSTALLMENTS = 120


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
