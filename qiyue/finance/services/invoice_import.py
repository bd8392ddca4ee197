"""Importing the tax platform's invoice export (finance): every row is matched to a contract and
recorded, all or nothing. A file with any bad row changes nothing and answers every row's problem;
a file imported twice records nothing the second time.

What a row does:
- its number is already recorded: skipped (a voided row voids the recorded invoice if it is issued);
- red-letter (negative amounts, 是否正数发票 = 否, or an original invoice number): reverses the
  recorded original;
- otherwise: issues the contract's open request of the same total, or records a new issued invoice.
A row's contract is its 合同编号 column, or a contract number written in its remark (备注); a
red-letter row may also take its original's.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.contracts.selectors import contract_queryset
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, service_errors

from .. import invoice_file, policies
from ..models import Invoice, InvoiceSource, InvoiceStatus, RedLetterReason
from .common import _invalid
from .invoices import invoice_issue, invoice_record, invoice_red_letter, invoice_void

TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-_/.]{2,63}")


@dataclass
class ImportResult:
    recorded: int = 0
    requests_issued: int = 0
    red_letters: int = 0
    voided: int = 0
    already_recorded: int = 0
    rows: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.recorded + self.requests_issued + self.red_letters + self.voided


def _label(name: str) -> str:
    """A field's name as the user reads it."""
    extra = {"contract": _("contract number"), "original": _("original invoice number"), "reason": _("reason")}
    if name in extra:
        return str(extra[name])
    try:
        return str(Invoice._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001  (not a field: shown as is)
        return name


def _contract_for(actor, row: invoice_file.Row, visible) -> Contract | None:
    number = row.values["contract"]
    if number:
        return visible.filter(number=number).first()
    tokens = set(TOKEN.findall(row.values["note"]))
    if not tokens:
        return None
    found = list(visible.filter(number__in=tokens)[:2])
    return found[0] if len(found) == 1 else None


def _data(values: dict) -> dict:
    data = {name: values[name] for name in ("code", "number", "issued_on", "amount_excluding_tax", "tax_amount",
                                             "total", "tax_rate", "buyer_name", "buyer_taxpayer_id", "note",
                                             "over_contract_reason")
            if values.get(name) not in (None, "")}
    if values.get("kind"):
        data["kind"] = values["kind"]
    return data


def _message(error) -> list[tuple[str, str]]:
    fields = getattr(error, "fields", None) or {}
    if fields:
        return [(name, str(m)) for name, messages in fields.items() for m in messages]
    return [("", str(getattr(error, "message", error)))]


def _apply(actor, row: invoice_file.Row, visible, result: ImportResult) -> str:
    values = row.values
    existing = Invoice.objects.filter(code=values["code"], number=values["number"]).select_related("contract").first()
    if existing is not None:
        if not policies.can_record_invoice(actor, existing.contract):
            raise _invalid({"number": [_("Already recorded on a contract you cannot see.")]})
        if values["status"] == "voided" and existing.status == InvoiceStatus.ISSUED:
            invoice_void(actor=actor, invoice=existing, reason=_("Voided on the tax platform."))
            result.voided += 1
            return "voided"
        result.already_recorded += 1
        return "already_recorded"
    if values["status"] == "voided":
        # Voided before it was ever recorded here: nothing to keep.
        result.already_recorded += 1
        return "not_recorded_voided"
    if values["red"]:
        if not values["original"]:
            raise _invalid({"original": [_("A red-letter row needs the number of the invoice it reverses.")]})
        original = Invoice.objects.filter(number=values["original"], reverses__isnull=True).select_related(
            "contract").first()
        if original is None or not visible.filter(pk=original.contract_id).exists():
            raise _invalid({"original": [_("Invoice %(number)s is not recorded.") % {"number": values["original"]}]})
        data = _data(values)
        data.pop("kind", None)
        data.update(red_reason=RedLetterReason.ERROR, red_confirmation=values["red_confirmation"],
                    reason=_("Red-letter invoice imported from the tax platform."))
        invoice_red_letter(actor=actor, invoice=original, data=data, source=InvoiceSource.IMPORTED)
        result.red_letters += 1
        return "red_letter"
    contract = _contract_for(actor, row, visible)
    if contract is None:
        raise _invalid({"contract": [_("No contract found: give its number in a 合同编号 column or in the remark.")]})
    if values["buyer_taxpayer_id"] and contract.customer.taxpayer_id and (
            values["buyer_taxpayer_id"] != contract.customer.taxpayer_id):
        raise _invalid({"buyer_taxpayer_id": [_("The buyer's taxpayer ID is not the customer's (%(id)s).") % {
            "id": contract.customer.taxpayer_id}]})
    request = (Invoice.objects.filter(contract=contract, status=InvoiceStatus.REQUESTED, total=values["total"])
               .order_by("created_at", "pk").first())
    data = _data(values)
    if request is not None:
        invoice_issue(actor=actor, invoice=request, data=data, source=InvoiceSource.IMPORTED)
        result.requests_issued += 1
        return "request_issued"
    invoice_record(actor=actor, contract=contract, data=data, source=InvoiceSource.IMPORTED)
    result.recorded += 1
    return "recorded"


def invoice_import(*, actor, content: bytes, filename: str, over_contract_reason: str = "") -> ImportResult:
    """Import an export file (finance). All rows or none: any row's problem is raised with every row's
    problems as `rows` field errors ("Row 7: number: …")."""
    if not policies.is_money_user(actor):
        raise permission_denied()
    try:
        rows = invoice_file.read_rows(content, filename)
    except invoice_file.FileError as error:
        raise _invalid({"file": [str(error)]}, message=str(error)) from None
    if not rows:
        raise _invalid({"file": [_("The file has no invoice rows.")]}, message=_("The file has no invoice rows."))
    visible = contract_queryset(user=actor)
    result = ImportResult()
    problems: list[str] = []

    def fail(row, items):
        for name, message in items:
            label = _label(name)
            problems.append(_("Row %(line)d: %(field)s: %(message)s") % {
                "line": row.line, "field": label, "message": message} if label else
                _("Row %(line)d: %(message)s") % {"line": row.line, "message": message})

    with transaction.atomic():
        for row in rows:
            if row.problems:
                fail(row, row.problems)
                continue
            if over_contract_reason:
                row.values["over_contract_reason"] = over_contract_reason
            try:
                with transaction.atomic():
                    outcome = _apply(actor, row, visible, result)
            except service_errors() as error:
                fail(row, _message(error))
                continue
            result.rows.append({"line": row.line, "number": row.values["number"], "outcome": outcome})
        if problems:
            raise ApplicationError(
                ErrorCode.INVALID,
                _("Nothing was imported: %(n)d problems in the file. Correct them and import the file again.") % {
                    "n": len(problems)},
                fields={"rows": problems[:200]})
    return result
