"""Invoices (开票): requests, the invoices the tax platform issued (typed in or imported), voiding, and
red-letter invoices (红字发票) that reverse an issued one. Qiyue records invoices; it issues none.

Every write locks the contract first, then the invoice, keeps the contract's invoiced total in the
same transaction, and is audited.
"""

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied
from qiyue.core.validators import TAXPAYER_ID

from .. import events, money, policies, totals
from ..errors import FinanceErrorCode
from ..models import (
    DIGITAL_KINDS,
    PAPER_KINDS,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceSource,
    InvoiceStatus,
    RedLetterReason,
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
    check_version,
    money_text,
)

# The platform computes the tax line by line, each rounded; a typed-in tax may differ from the rate
# applied to the whole amount by this much and no more.
TAX_TOLERANCE = Decimal("1.00")
DIGITAL_NUMBER = re.compile(r"\d{20}")
PAPER_CODE = re.compile(r"\d{10}|\d{12}")
PAPER_NUMBER = re.compile(r"\d{8}")
OTHER_NUMBER = re.compile(r"[0-9A-Za-z-]{1,20}")


def _rate(value: Any, field: str = "tax_rate") -> Decimal:
    if value in (None, ""):
        raise _invalid({field: [_("This field is required.")]})
    try:
        rate = Decimal(str(value).replace("%", "").strip())
    except (InvalidOperation, ValueError):
        raise _invalid({field: [_("Enter a number.")]}) from None
    if not rate.is_finite() or not 0 <= rate <= 100 or rate != rate.quantize(Decimal("0.01")):
        raise _invalid({field: [_("Enter a rate from 0 to 100 percent, with at most two decimals.")]})
    return rate.quantize(Decimal("0.01"))


def _tax(value: Any, currency: str) -> Decimal:
    """A tax amount: zero or more (a zero-rated invoice has no tax)."""
    try:
        tax = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise _invalid({"tax_amount": [_("Enter a number.")]}) from None
    if not tax.is_finite() or tax < 0:
        raise _invalid({"tax_amount": [_("Enter zero or more.")]})
    if tax == 0:
        return Decimal("0.00")
    return _amount(tax, currency, "tax_amount")


def _kind(value: Any) -> str:
    kind = value or InvoiceKind.DIGITAL_SPECIAL
    if kind not in InvoiceKind.values:
        raise _invalid({"kind": [_("Choose one of the invoice types.")]})
    return kind


def _split(data: Mapping[str, Any], currency: str, *, rate: Decimal) -> money.TaxSplit:
    """The three amounts of an invoice from what was given: the total alone (the rest follows from the
    rate), or the amount excluding tax and the tax (then the total is their sum, and a total given too
    must agree)."""
    excluding = _amount(data.get("amount_excluding_tax"), currency, "amount_excluding_tax", required=False)
    total = _amount(data.get("total"), currency, "total", required=False)
    tax_value = data.get("tax_amount")
    if excluding is None:
        if total is None:
            raise _invalid({"total": [_("Give the total including tax, or the amount excluding tax.")]})
        return money.tax_from_total(total, rate, currency)
    if tax_value in (None, ""):
        split = money.tax_from_excluding(excluding, rate, currency)
    else:
        tax = _tax(tax_value, currency)
        expected = money.tax_from_excluding(excluding, rate, currency).tax
        if abs(tax - expected) > TAX_TOLERANCE:
            raise _invalid({"tax_amount": [_("The tax does not match the rate: %(rate)s%% of the amount is about "
                                             "%(expected)s.") % {"rate": rate.normalize(),
                                                                 "expected": money_text(expected, currency)}]})
        split = money.TaxSplit(excluding, tax, excluding + tax)
    if total is not None and total != split.total:
        raise _invalid({"total": [_("The total must be the amount excluding tax plus the tax (%(total)s).") % {
            "total": money_text(split.total, currency)}]})
    return split


def _numbers(kind: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """(code, number) as the invoice type has them: a digital invoice its 20-digit number and no code,
    a paper one its 10- or 12-digit code and 8-digit number."""
    code = _text(data.get("code"), "code", 12).replace(" ", "")
    number = _text(data.get("number"), "number", 20, required=True).replace(" ", "")
    if kind in DIGITAL_KINDS:
        if not DIGITAL_NUMBER.fullmatch(number):
            raise _invalid({"number": [_("A digital invoice number has 20 digits.")]})
        if code:
            raise _invalid({"code": [_("A digital invoice has no invoice code; leave it empty.")]})
    elif kind in PAPER_KINDS:
        if not PAPER_CODE.fullmatch(code):
            raise _invalid({"code": [_("A paper invoice code has 10 or 12 digits.")]})
        if not PAPER_NUMBER.fullmatch(number):
            raise _invalid({"number": [_("A paper invoice number has 8 digits.")]})
    else:
        if code and not PAPER_CODE.fullmatch(code):
            raise _invalid({"code": [_("An invoice code has 10 or 12 digits.")]})
        if not OTHER_NUMBER.fullmatch(number):
            raise _invalid({"number": [_("Use digits, letters and hyphens only.")]})
    return code, number


def _number_free(code: str, number: str, *, exclude: int | None = None) -> None:
    taken = Invoice.objects.filter(code=code, number=number)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ApplicationError(FinanceErrorCode.INVOICE_NUMBER_TAKEN,
                               _("Invoice %(number)s is already recorded.") % {"number": number},
                               fields={"number": [_("Already recorded.")]})


def _issued_on(value: Any, field: str = "issued_on") -> datetime.date:
    day = _date(value, field)
    if day > _today():
        raise _invalid({field: [_("The date cannot be in the future.")]})
    return day


def _buyer(contract: Contract, kind: str, data: Mapping[str, Any], *, current: Invoice | None = None) -> dict:
    """The buyer as the invoice names it: given, or the customer's invoicing details. A special VAT
    invoice needs the buyer's taxpayer ID."""
    customer = contract.customer
    name = _text(data.get("buyer_name"), "buyer_name", 200)
    if not name:
        name = (current.buyer_name if current is not None else "") or customer.invoice_title or customer.name
    taxpayer_id = _text(data.get("buyer_taxpayer_id"), "buyer_taxpayer_id", 20).upper()
    if not taxpayer_id:
        taxpayer_id = (current.buyer_taxpayer_id if current is not None else "") or customer.taxpayer_id
    if taxpayer_id and not TAXPAYER_ID.fullmatch(taxpayer_id):
        raise _invalid({"buyer_taxpayer_id": [_("A taxpayer ID has 15, 17, 18 or 20 digits and capital letters.")]})
    if kind in (InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.PAPER_SPECIAL) and not taxpayer_id:
        raise _invalid({"buyer_taxpayer_id": [_("A special VAT invoice needs the buyer's taxpayer ID. Add it to the "
                                                "customer's invoicing details, or type it here.")]})
    return {"buyer_name": name, "buyer_taxpayer_id": taxpayer_id}


def _installment(contract: Contract, value: Any) -> Installment | None:
    if value in (None, ""):
        return None
    try:
        row = Installment.objects.filter(pk=int(getattr(value, "pk", value)), contract=contract,
                                         status__in=LIVE_INSTALLMENTS).first()
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise _invalid({"installment": [_("Choose one of this contract's installments.")]})
    return row


def _check_beyond_contract(actor, contract: Contract, total: Decimal, data: Mapping[str, Any], *,
                           counting_requests: bool, exclude: int | None = None) -> str:
    """Invoicing beyond the contract amount: refused, unless finance gives a reason (returned)."""
    invoiced = contract.invoiced_amount
    if counting_requests:
        pending = Invoice.objects.filter(contract=contract, status=InvoiceStatus.REQUESTED)
        if exclude is not None:
            pending = pending.exclude(pk=exclude)
        invoiced += pending.aggregate(s=Sum("total"))["s"] or Decimal("0")
    after = invoiced + total
    reason = _text(data.get("over_contract_reason"), "over_contract_reason", 1000)
    if after <= contract.amount:
        return ""
    values = {"after": money_text(after, contract.currency), "amount": money_text(contract.amount, contract.currency)}
    if not policies.is_money_user(actor):
        raise ApplicationError(
            FinanceErrorCode.INVOICE_EXCEEDS_CONTRACT,
            _("Invoices would come to %(after)s, more than the contract amount %(amount)s. Only finance can "
              "invoice beyond the contract amount.") % values,
            fields={"total": [_("More than the contract amount leaves to invoice.")]})
    if not reason:
        raise ApplicationError(
            FinanceErrorCode.INVOICE_EXCEEDS_CONTRACT,
            _("Invoices would come to %(after)s, more than the contract amount %(amount)s. Give the reason for "
              "invoicing beyond it.") % values,
            fields={"over_contract_reason": [_("A reason is required to invoice beyond the contract amount.")]})
    return reason


def _lock_invoice(invoice: Invoice) -> tuple[Contract, Invoice]:
    contract = _lock_contract(invoice.contract)
    row = Invoice.objects.select_for_update().filter(pk=invoice.pk, contract=contract).first()
    if row is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    row.contract = contract
    return contract, row



def _line(invoice: Invoice) -> dict:
    """An invoice as the audit log keeps it."""
    line = {"kind": str(InvoiceKind(invoice.kind).label),
            "total": money_text(invoice.total, invoice.currency),
            "amount_excluding_tax": money_text(invoice.amount_excluding_tax, invoice.currency),
            "tax_rate": f"{invoice.tax_rate.normalize():f}%",
            "tax_amount": money_text(invoice.tax_amount, invoice.currency)}
    for name in ("code", "number", "buyer_name", "buyer_taxpayer_id", "note", "over_contract_reason",
                 "red_confirmation"):
        if getattr(invoice, name):
            line[name] = getattr(invoice, name)
    if invoice.issued_on:
        line["issued_on"] = invoice.issued_on.isoformat()
    if invoice.installment_id:
        line["installment"] = f"#{invoice.installment.position}"
    if invoice.source == InvoiceSource.IMPORTED:
        line["source"] = str(InvoiceSource.IMPORTED.label)
    return line


def _save(invoice: Invoice) -> None:
    invoice.full_clean(exclude=["contract", "customer", "installment", "reverses", "requested_by", "issued_by",
                                "closed_by"], validate_unique=False, validate_constraints=False)
    invoice.save()


def invoice_request(*, actor, contract: Contract, data: Mapping[str, Any]) -> Invoice:
    """Ask finance for an invoice (sales on a contract they edit, finance on any): `kind`, `total`
    (including tax) or `amount_excluding_tax`, `tax_rate` (default: the contract's), optionally `installment`, `note`, the buyer
    (else the customer's invoicing details) and, beyond the contract amount, finance's
    `over_contract_reason`."""
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_request_invoice(actor, contract):
            raise permission_denied()
        kind = _kind(data.get("kind"))
        rate = _rate(data["tax_rate"] if data.get("tax_rate") not in (None, "") else contract.tax_rate)
        split = _split(data, contract.currency, rate=rate)
        invoice = Invoice(
            contract=contract, customer=contract.customer, kind=kind, status=InvoiceStatus.REQUESTED,
            installment=_installment(contract, data.get("installment")),
            amount_excluding_tax=split.excluding_tax, tax_rate=rate, tax_amount=split.tax,
            total=split.total, currency=contract.currency, note=_text(data.get("note"), "note", 1000),
            requested_by=actor, **_buyer(contract, kind, data))
        invoice.over_contract_reason = _check_beyond_contract(actor, contract, split.total, data,
                                                              counting_requests=True)
        _save(invoice)
        events.invoice_event(actor=actor, action="invoice.requested", invoice=invoice, changes=_line(invoice))
        return invoice


def _apply_issue(actor, contract: Contract, invoice: Invoice, data: Mapping[str, Any], *, source: str) -> None:
    """Fill `invoice` with what the platform issued (the request's values are the defaults)."""
    kind = _kind(data.get("kind") or invoice.kind or None)
    rate = _rate(data["tax_rate"] if data.get("tax_rate") not in (None, "") else invoice.tax_rate)
    if any(data.get(name) not in (None, "") for name in ("total", "amount_excluding_tax")):
        split = _split(data, contract.currency, rate=rate)
    elif invoice.total:
        split = money.TaxSplit(invoice.amount_excluding_tax, invoice.tax_amount, invoice.total)
        if rate != invoice.tax_rate:
            split = money.tax_from_total(invoice.total, rate, contract.currency)
    else:
        split = _split(data, contract.currency, rate=rate)
    code, number = _numbers(kind, data)
    _number_free(code, number, exclude=invoice.pk)
    invoice.kind = kind
    invoice.code, invoice.number = code, number
    invoice.issued_on = _issued_on(data.get("issued_on"))
    invoice.tax_rate = rate
    invoice.amount_excluding_tax, invoice.tax_amount, invoice.total = split.excluding_tax, split.tax, split.total
    for name, value in _buyer(contract, kind, data, current=invoice).items():
        setattr(invoice, name, value)
    if "note" in data:
        invoice.note = _text(data.get("note"), "note", 1000)
    if "installment" in data:
        invoice.installment = _installment(contract, data.get("installment"))
    reason = _check_beyond_contract(actor, contract, split.total, data, counting_requests=False)
    if reason:
        invoice.over_contract_reason = reason
    invoice.status = InvoiceStatus.ISSUED
    invoice.source = source
    invoice.issued_by = actor


def invoice_issue(*, actor, invoice: Invoice, data: Mapping[str, Any], expected_version: int | None = None,
                  source: str = InvoiceSource.TYPED) -> Invoice:
    """Record the invoice the tax platform issued for a request (finance): its number (and code),
    date and amounts, which may differ from the request's."""
    with transaction.atomic():
        contract, invoice = _lock_invoice(invoice)
        if not policies.can_record_invoice(actor, contract):
            raise permission_denied()
        check_version(invoice, expected_version)
        if invoice.status != InvoiceStatus.REQUESTED:
            raise ApplicationError(FinanceErrorCode.INVOICE_STATE, _("Only a requested invoice can be issued."))
        _apply_issue(actor, contract, invoice, data, source=source)
        invoice.version += 1
        _save(invoice)
        totals.keep(contract)
        events.invoice_event(actor=actor, action="invoice.issued", invoice=invoice,
                             changes={**_line(invoice), "status": [InvoiceStatus.REQUESTED.value,
                                                                   InvoiceStatus.ISSUED.value]})
        return invoice


def invoice_record(*, actor, contract: Contract, data: Mapping[str, Any],
                   source: str = InvoiceSource.TYPED) -> Invoice:
    """Record an invoice the platform issued without a request in Qiyue (finance)."""
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_record_invoice(actor, contract):
            raise permission_denied()
        if contract.status not in policies.OWING_STATUSES:
            raise ApplicationError(FinanceErrorCode.INVOICE_STATE,
                                   _("Only a signed contract is invoiced."))
        invoice = Invoice(contract=contract, customer=contract.customer, currency=contract.currency,
                          kind=_kind(data.get("kind")), amount_excluding_tax=Decimal("0"), tax_rate=contract.tax_rate,
                          tax_amount=Decimal("0"), total=Decimal("0"), requested_by=None)
        _apply_issue(actor, contract, invoice, data, source=source)
        _save(invoice)
        totals.keep(contract)
        events.invoice_event(actor=actor, action="invoice.issued", invoice=invoice, changes=_line(invoice))
        return invoice


def invoice_withdraw(*, actor, invoice: Invoice, reason: str, expected_version: int | None = None) -> Invoice:
    """Take back a request nothing was issued for (finance, or who asked)."""
    reason = _reason(reason)
    with transaction.atomic():
        contract, invoice = _lock_invoice(invoice)
        if not policies.can_withdraw_invoice_request(actor, invoice):
            raise permission_denied()
        check_version(invoice, expected_version)
        if invoice.status != InvoiceStatus.REQUESTED:
            raise ApplicationError(FinanceErrorCode.INVOICE_STATE, _("Only a requested invoice can be withdrawn."))
        invoice.status = InvoiceStatus.WITHDRAWN
        invoice.status_reason = reason
        invoice.closed_by, invoice.closed_at = actor, timezone.now()
        invoice.version += 1
        invoice.save()
        events.invoice_event(actor=actor, action="invoice.withdrawn", invoice=invoice, changes={
            "status": [InvoiceStatus.REQUESTED.value, InvoiceStatus.WITHDRAWN.value], "reason": reason,
            "total": money_text(invoice.total, invoice.currency)})
        return invoice


def invoice_void(*, actor, invoice: Invoice, reason: str, expected_version: int | None = None) -> Invoice:
    """Void an issued paper (or other) invoice (作废, finance). A digital invoice cannot be voided: the
    platform only reverses it with a red-letter invoice; nor can an invoice with red-letter ones."""
    reason = _reason(reason)
    with transaction.atomic():
        contract, invoice = _lock_invoice(invoice)
        if not policies.can_record_invoice(actor, contract):
            raise permission_denied()
        check_version(invoice, expected_version)
        if invoice.status != InvoiceStatus.ISSUED:
            raise ApplicationError(FinanceErrorCode.INVOICE_STATE, _("Only an issued invoice can be voided."))
        if invoice.kind in DIGITAL_KINDS:
            raise ApplicationError(FinanceErrorCode.INVOICE_CANNOT_VOID,
                                   _("A digital invoice cannot be voided; record the red-letter invoice that "
                                     "reverses it."))
        if invoice.red_letters.filter(status=InvoiceStatus.ISSUED).exists():
            raise ApplicationError(FinanceErrorCode.INVOICE_CANNOT_VOID,
                                   _("This invoice has red-letter invoices; it cannot be voided."))
        invoice.status = InvoiceStatus.VOIDED
        invoice.status_reason = reason
        invoice.closed_by, invoice.closed_at = actor, timezone.now()
        invoice.version += 1
        invoice.save()
        totals.keep(contract)
        events.invoice_event(actor=actor, action="invoice.voided", invoice=invoice, changes={
            "status": [InvoiceStatus.ISSUED.value, InvoiceStatus.VOIDED.value], "reason": reason,
            "number": invoice.number, "total": money_text(invoice.total, invoice.currency)})
        return invoice


def red_letter_room(invoice: Invoice) -> Decimal:
    """What red-letter invoices may still reverse of `invoice`."""
    reversed_ = invoice.red_letters.filter(status=InvoiceStatus.ISSUED).aggregate(s=Sum("total"))["s"]
    return invoice.total - (reversed_ or Decimal("0"))


def invoice_red_letter(*, actor, invoice: Invoice, data: Mapping[str, Any], source: str = InvoiceSource.TYPED,
                       expected_version: int | None = None) -> Invoice:
    """Record the red-letter invoice (红字发票) that reverses all or part of an issued one (finance):
    its number, date, the amount reversed (`total`, at most what is left; the whole by default), the
    `red_reason` of the red-letter confirmation, its `red_confirmation` number and a `reason` text."""
    with transaction.atomic():
        contract, original = _lock_invoice(invoice)
        if not policies.can_record_invoice(actor, contract):
            raise permission_denied()
        check_version(original, expected_version)
        if original.status != InvoiceStatus.ISSUED or original.is_red:
            raise ApplicationError(FinanceErrorCode.INVOICE_STATE,
                                   _("Only an issued invoice, not itself red-letter, can be reversed."))
        red_reason = data.get("red_reason")
        if red_reason not in RedLetterReason.values:
            raise _invalid({"red_reason": [_("Choose the reason of the red-letter confirmation.")]})
        reason = _text(data.get("reason"), "reason", 1000)
        room = red_letter_room(original)
        rate = _rate(data["tax_rate"] if data.get("tax_rate") not in (None, "") else original.tax_rate)
        if any(data.get(name) not in (None, "") for name in ("total", "amount_excluding_tax")):
            split = _split(data, contract.currency, rate=rate)
        elif room == original.total:
            split = money.TaxSplit(original.amount_excluding_tax, original.tax_amount, original.total)
        else:
            split = money.tax_from_total(room, rate, contract.currency)
        if split.total > room:
            raise ApplicationError(FinanceErrorCode.RED_LETTER_EXCEEDS,
                                   _("At most %(room)s of this invoice is left to reverse.") % {
                                       "room": money_text(room, original.currency)},
                                   fields={"total": [_("More than is left to reverse.")]})
        code, number = _numbers(original.kind, data)
        _number_free(code, number)
        issued_on = _issued_on(data.get("issued_on"))
        if original.issued_on and issued_on < original.issued_on:
            raise _invalid({"issued_on": [_("A red-letter invoice cannot be dated before the invoice it reverses.")]})
        red = Invoice(
            contract=contract, customer=original.customer, installment=original.installment, kind=original.kind,
            status=InvoiceStatus.ISSUED, code=code, number=number, issued_on=issued_on,
            amount_excluding_tax=split.excluding_tax, tax_rate=rate, tax_amount=split.tax, total=split.total,
            currency=original.currency, buyer_name=original.buyer_name,
            buyer_taxpayer_id=original.buyer_taxpayer_id, reverses=original, red_reason=red_reason,
            red_confirmation=_text(data.get("red_confirmation"), "red_confirmation", 40),
            status_reason=reason, note=_text(data.get("note"), "note", 1000), source=source, issued_by=actor)
        _save(red)
        original.version += 1
        original.save(update_fields=["version", "updated_at"])
        totals.keep(contract)
        changes = {**_line(red), "reverses": original.number, "red_reason": str(RedLetterReason(red_reason).label)}
        if reason:
            changes["reason"] = reason
        events.invoice_event(actor=actor, action="invoice.red_letter", invoice=red, changes=changes)
        return red
