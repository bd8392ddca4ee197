"""Export of a contract list to Excel (xlsx) and CSV.

The rows come from the same selector and FilterSet as the list page, so an export holds exactly
what the user sees there and never a contract they may not see.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook

from qiyue.core import permissions

from . import custom_fields
from .models import Contract

# (header source, value) per column; the header is the model field's translated name.
COLUMNS = (
    "number", "title", "customer", "status", "nature", "subject_matter", "signing_form", "amount", "currency",
    "tax_rate", "no_amount_reason", "signing_date", "effective_date", "expiry_date", "open_ended", "auto_renewal",
    "notice_period_days", "owner", "team", "parent", "tags", "received_amount", "outstanding_amount",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def headers(extra=()) -> list[str]:
    return [capfirst(str(Contract._meta.get_field(name).verbose_name)) for name in COLUMNS] + [
        capfirst(_("oldest unpaid due date")), capfirst(_("overdue"))] + [str(field) for field in extra]


def _safe(value):
    # A cell that starts like a formula would run in the spreadsheet (CSV/formula injection).
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def row(contract: Contract, user) -> list:
    return [_safe(value) for value in (
        contract.number, contract.title, contract.customer.name, contract.get_status_display(),
        contract.get_nature_display(), contract.get_subject_matter_display(), contract.get_signing_form_display(),
        contract.amount, contract.currency, contract.tax_rate, contract.no_amount_reason, contract.signing_date,
        contract.effective_date, contract.expiry_date, _("Yes") if contract.open_ended else _("No"),
        _("Yes") if contract.auto_renewal else _("No"), contract.notice_period_days,
        str(contract.owner), str(contract.team) if contract.team_id else "",
        contract.parent.number if contract.parent_id and permissions.can_see(user, contract.parent) else "", contract.tags.replace(",", ", "),
        contract.received_amount, contract.outstanding_amount, contract.unpaid_since,
        contract.overdue_amount(timezone.localdate()),
    )]


def rows(contracts, user, extra=()) -> Iterator[list]:
    """Each contract's row, then the values of `extra` (the listed type's custom fields), a batch at a time."""
    batch: list = []
    for contract in contracts.select_related("parent").iterator(chunk_size=1000):
        batch.append(contract)
        if len(batch) == 1000:
            yield from _with_custom(batch, user, extra)
            batch = []
    yield from _with_custom(batch, user, extra)


def _with_custom(batch, user, extra) -> Iterator[list]:
    if not batch:
        return
    cells = custom_fields.display_cells(batch, list(extra)) if extra else {}
    for contract in batch:
        yield row(contract, user) + [_safe(value) for value in cells.get(contract.pk, [])]


def filename(extension: str) -> str:
    return f"contracts-{timezone.localdate():%Y%m%d}.{extension}"


def xlsx_response(contracts, user, extra=()) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Contracts")[:31])
    sheet.append(headers(extra))
    for values in rows(contracts, user, extra):
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename("xlsx")}"'
    return response


class _Echo:
    def write(self, value):
        return value


def _csv_lines(lines: Iterable[list], language: str, extra=()) -> Iterator[str]:
    # The body is produced after the view returns: keep the request's language for labels.
    with translation.override(language):
        writer = csv.writer(_Echo())
        # The byte-order mark makes Excel read the file as UTF-8 (Chinese names stay readable).
        yield "\ufeff"
        yield writer.writerow(headers(extra))
        for values in lines:
            yield writer.writerow(["" if v is None else v for v in values])


def csv_response(contracts, user, extra=()) -> StreamingHttpResponse:
    body = _csv_lines(rows(contracts, user, extra), translation.get_language(), extra)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename("csv")}"'
    return response
