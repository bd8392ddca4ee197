"""Reading the tax platform's invoice export (电子发票服务平台 → 发票查询 → 导出): an XLSX (or a CSV saved
from it) with one invoice per row. Headers are matched by name, in Chinese or English, wherever the
columns are; the rest is ignored. No database access: `read_rows` turns a file into plain rows with
their line numbers, and the service decides what each row means."""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000

# Column → the headers that name it (compared without spaces and case).
HEADERS = {
    "contract": ("合同编号", "合同号", "contractnumber", "contract"),
    "kind": ("发票票种", "票种", "发票类型", "发票种类", "invoicetype", "type", "kind"),
    "code": ("发票代码", "invoicecode", "code"),
    "number": ("发票号码", "invoicenumber", "number"),
    "digital_number": ("数电票号码", "数电发票号码", "全电发票号码", "digitalinvoicenumber"),
    "issued_on": ("开票日期", "issuedon", "issuedate", "date"),
    "buyer_name": ("购买方名称", "购方名称", "buyer", "buyername"),
    "buyer_taxpayer_id": ("购买方纳税人识别号", "购买方识别号", "购方识别号", "购方纳税人识别号", "buyertaxpayerid"),
    "amount_excluding_tax": ("金额", "合计金额", "不含税金额", "amountexcludingtax", "amount"),
    "tax_amount": ("税额", "合计税额", "taxamount", "tax"),
    "total": ("价税合计", "价税合计金额", "total", "totalincludingtax"),
    "tax_rate": ("税率", "征收率", "taxrate", "rate"),
    "status": ("发票状态", "状态", "status"),
    "positive": ("是否正数发票", "正数发票", "positive"),
    "original": ("对应蓝字发票号码", "蓝字发票号码", "原发票号码", "被红冲蓝字发票号码", "originalinvoicenumber",
                 "reverses"),
    "red_confirmation": ("红字确认单编号", "红字发票信息确认单编号", "红字信息表编号", "redletterconfirmation"),
    "note": ("备注", "note", "remarks"),
}
REQUIRED = ("issued_on", "total")
RATES = (Decimal("13"), Decimal("9"), Decimal("6"), Decimal("5"), Decimal("3"), Decimal("1"), Decimal("0"))
ORIGINAL_IN_NOTE = re.compile(r"(?:蓝字|原)[^0-9]{0,20}(?:号码)?[:：]?\s*(\d{20}|\d{8})")


class FileError(Exception):
    """The file as a whole cannot be read (type, size, no header row)."""


@dataclass
class Row:
    line: int
    values: dict = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def _key(text) -> str:
    return re.sub(r"[\s_（）()*：:]", "", str(text or "")).lower()


def _columns(header: list) -> dict[str, int]:
    names = {}
    wanted = {alias: column for column, aliases in HEADERS.items() for alias in aliases}
    for index, cell in enumerate(header):
        column = wanted.get(_key(cell))
        if column is not None and column not in names:
            names[column] = index
    return names


def _sheet_rows(content: bytes, name: str):
    lower = name.lower()
    if lower.endswith(".xlsx") or content[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001  (any damage to the file reads as "not an XLSX")
            raise FileError(_("The file is not a readable XLSX workbook.")) from None
        try:
            sheet = book.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield list(values)
        finally:
            book.close()
        return
    if lower.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FileError(_("The CSV file is neither UTF-8 nor GB18030 text."))
        yield from csv.reader(io.StringIO(text))
        return
    raise FileError(_("Upload the XLSX (or CSV) export of the tax platform."))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decimal(value, problems, name) -> Decimal | None:
    text = _text(value).replace(",", "").replace("¥", "").replace("￥", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        problems.append((name, _("Not a number: %(value)s") % {"value": text[:40]}))
        return None
    if not number.is_finite():
        problems.append((name, _("Not a number: %(value)s") % {"value": text[:40]}))
        return None
    return number


def _date(value, problems) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        return None
    match = re.match(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", text)
    if match:
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            pass
    problems.append(("issued_on", _("Not a date: %(value)s") % {"value": text[:40]}))
    return None


def _rate(value, problems) -> Decimal | None:
    text = _text(value)
    if not text:
        return None
    if text in ("免税", "不征税", "免征"):
        return Decimal("0")
    percent = text.endswith("%")
    number = _decimal(text.rstrip("%"), problems, "tax_rate")
    if number is None:
        return None
    if not percent and number < 1 and number != 0:
        number *= 100  # 0.13 means 13 %
    return number.quantize(Decimal("0.01"))


def kind_of(text: str) -> str | None:
    """The invoice type from the platform's wording (数电票（增值税专用发票）, 增值税普通发票…) or ours."""
    value = _key(text)
    if not value:
        return None
    if value in ("digital_special", "digitalspecial", "digital_general", "digitalgeneral", "paper_special",
                 "paperspecial", "paper_general", "papergeneral", "other"):
        return {"digitalspecial": "digital_special", "digitalgeneral": "digital_general",
                "paperspecial": "paper_special", "papergeneral": "paper_general"}.get(value, value)
    digital = "数电" in value or "电子" in value or "全电" in value
    if "专用" in value:
        return "digital_special" if digital else "paper_special"
    if "普通" in value:
        return "digital_general" if digital else "paper_general"
    return "other"


def _status(text: str) -> str:
    value = _key(text)
    if "作废" in value or value in ("voided", "void"):
        return "voided"
    return "issued"


def read_rows(content: bytes, name: str) -> list[Row]:
    """The invoice rows of an export, each with what it says (amounts positive, `red` for a
    red-letter row) and the problems found reading it. Blank rows and total rows are skipped."""
    if len(content) > MAX_BYTES:
        raise FileError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
    rows: list[Row] = []
    columns = None
    for line, values in enumerate(_sheet_rows(content, name), start=1):
        if columns is None:
            found = _columns(values)
            if all(name in found for name in REQUIRED) and ("number" in found or "digital_number" in found):
                columns = found
            elif line >= 10:
                break
            continue
        cell = {column: values[index] if index < len(values) else None for column, index in columns.items()}
        if not any(_text(v) for v in cell.values()) or _text(cell.get("issued_on")) in ("合计", "总计", "Total"):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileError(_("The file has more than %(n)d invoices; split it.") % {"n": MAX_ROWS})
        row = Row(line=line)
        problems = row.problems
        number = _text(cell.get("digital_number")) or _text(cell.get("number"))
        amounts = {name: _decimal(cell.get(name), problems, name)
                   for name in ("amount_excluding_tax", "tax_amount", "total")}
        negative = any(v is not None and v < 0 for v in amounts.values())
        note = _text(cell.get("note"))
        original = _text(cell.get("original"))
        if not original:
            match = ORIGINAL_IN_NOTE.search(note)
            original = match.group(1) if match else ""
        red = negative or _key(cell.get("positive")) in ("否", "no", "false") or bool(original)
        row.values = {
            "contract": _text(cell.get("contract")),
            "kind": kind_of(_text(cell.get("kind"))),
            "code": "" if _text(cell.get("digital_number")) else _text(cell.get("code")),
            "number": number,
            "issued_on": _date(cell.get("issued_on"), problems),
            "buyer_name": _text(cell.get("buyer_name")),
            "buyer_taxpayer_id": _text(cell.get("buyer_taxpayer_id")).upper(),
            "tax_rate": _rate(cell.get("tax_rate"), problems),
            "status": _status(_text(cell.get("status"))),
            "red": red,
            "original": original,
            "red_confirmation": _text(cell.get("red_confirmation")),
            "note": note,
            **{name: abs(value) if value is not None else None for name, value in amounts.items()},
        }
        if not number:
            problems.append(("number", _("The invoice number is missing.")))
        if row.values["issued_on"] is None and not any(n == "issued_on" for n, _m in problems):
            problems.append(("issued_on", _("The date is missing.")))
        if row.values["total"] is None:
            if row.values["amount_excluding_tax"] is not None and row.values["tax_amount"] is not None:
                row.values["total"] = row.values["amount_excluding_tax"] + row.values["tax_amount"]
            elif not any(n == "total" for n, _m in problems):
                problems.append(("total", _("The total is missing.")))
        if row.values["tax_rate"] is None:
            row.values["tax_rate"] = guess_rate(row.values["amount_excluding_tax"], row.values["tax_amount"])
        rows.append(row)
    if columns is None:
        raise FileError(_("No header row found: the file needs columns for the invoice number, the date (开票日期) "
                          "and the total (价税合计)."))
    return rows


def guess_rate(excluding: Decimal | None, tax: Decimal | None) -> Decimal | None:
    """The usual VAT rate nearest to tax ÷ amount, when the export has no rate column."""
    if excluding is None or tax is None or excluding <= 0:
        return None
    actual = tax * 100 / excluding
    best = min(RATES, key=lambda rate: abs(rate - actual))
    return best if abs(best - actual) < Decimal("0.5") else actual.quantize(Decimal("0.01"))
