"""Real files for the extraction tests, built in memory: a text PDF with Chinese (reportlab's
STSong-Light CID font), a DOCX with a table, header and footer, a two-sheet XLSX, and scans —
Chinese text rendered with Noto Sans CJK into a PNG, a multi-frame TIFF and an image-only PDF."""

import io
import re
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from qiyue.contracts.tests.factories import make_contract

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

PDF_PAGES = [
    ["第一页：合同金额为人民币壹佰万元整。", "Party A: Beijing Example Technology Co., Ltd."],
    ["第二页：甲方与乙方签署本补充协议。", "Payment terms: net thirty days after invoice."],
]
SCAN_LINES = ["合同金额人民币", "甲方乙方签字", "Contract Payment"]


def text_pdf(pages: list[list[str]] = PDF_PAGES, *, font_size: int = 12) -> bytes:
    """A text PDF, a page per list of lines, each line below the last (split a paragraph into lines
    to lay it out wrapped, as a word processor does: a line may end in the middle of a word)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    for lines in pages:
        pdf.setFont("STSong-Light", font_size)
        for number, line in enumerate(lines):
            pdf.drawString(72, 760 - font_size * 1.5 * number, line)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(CJK_FONT, size)


def text_image(lines: list[str] = SCAN_LINES, *, size: int = 48, width: int = 1000) -> Image.Image:
    """Black text on white, large and clear, as a 300 dpi scan of a printed page would show it."""
    image = Image.new("L", (width, 80 + len(lines) * size * 2), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((60, 50 + number * size * 2), line, font=_font(size), fill=0)
    return image


def image_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_scan(lines: list[str] = SCAN_LINES) -> bytes:
    return image_bytes(text_image(lines), "PNG", dpi=(300, 300))


def tiff_scan(pages: list[list[str]]) -> bytes:
    """A multi-frame TIFF, one frame per page, as a sheet-feed scanner writes it."""
    frames = [text_image(lines) for lines in pages]
    return image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="tiff_lzw",
                       dpi=(300, 300))


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """An image-only PDF (no text layer), each page a scan placed by reportlab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    width, height = A4
    for lines in pages:
        image = text_image(lines, size=48, width=1600)
        # 1600 px across 6.6 inches of the page: about 240 dpi once rendered back at 300 dpi.
        shown = width - 72
        pdf.drawImage(ImageReader(image.convert("RGB")), 36, height - 36 - shown * image.height / image.width,
                      width=shown, height=shown * image.height / image.width)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def docx_file(*, pages: int | None = 3) -> bytes:
    """Body paragraphs, a table, a header and a footer; docProps/app.xml says `pages` pages (no
    app.xml at all for None)."""
    import zipfile

    import docx

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "页眉：保密合同 Confidential"
    section.footer.paragraphs[0].text = "页脚：第一页共三页 Footer"
    document.add_paragraph("本合同由甲方北京示例科技有限公司与乙方签订。")
    document.add_paragraph("The Supplier shall deliver the goods.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "合同金额"
    table.cell(0, 1).text = "人民币伍拾万元"
    table.cell(1, 0).text = "Delivery date"
    table.cell(1, 1).text = "2026-03-31"
    document.add_paragraph("附件：技术规格书。")
    out = io.BytesIO()
    document.save(out)
    # Word records the page count it laid out in docProps/app.xml; python-docx's template says 1.
    app = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.'
           'openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word'
           f'</Application><Pages>{pages}</Pages></Properties>')
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "docProps/app.xml":
                if pages is not None:
                    target.writestr(item, app)
                continue
            if item.filename in ("[Content_Types].xml", "_rels/.rels") and pages is None:
                data = re.sub(rb'<(Override|Relationship)[^>]*docProps/app\.xml"[^>]*/>', b"", data)
            target.writestr(item, data)
    return rebuilt.getvalue()


def xlsx_file() -> bytes:
    import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "付款计划"
    first.append(["期数", "金额", "到期日"])
    first.append([1, 250000.5, datetime.date(2026, 6, 30)])
    first.append([2, 750000, datetime.date(2026, 12, 31)])
    second = workbook.create_sheet("Contacts")
    second.append(["Name", "Phone"])
    second.append(["张三", "13800000000"])
    second["D5"] = "备注：甲方联系人"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_stored_version(owner, data: bytes, file_type: str, *, filename: str | None = None):
    """A contract document with one version whose bytes are encrypted in storage, as an upload leaves
    it (extraction queued); no task is enqueued."""
    from qiyue.documents.models import Document, DocumentVersion
    from qiyue.vault import blobs

    contract = make_contract(owner)
    document = Document.objects.create(contract=contract, customer=contract.customer, title="合同正文",
                                       created_by=owner)
    blob = blobs.blob_write([data])
    version = DocumentVersion.objects.create(
        document=document, number=1, filename=filename or f"contract.{file_type}", file_type=file_type,
        content_type=CONTENT_TYPES[file_type], size=blob.size, sha256=blob.sha256, blob_name=blob.name,
        key_id=blob.key_id, wrapped_key=blob.wrapped_key, uploaded_by=owner)
    Document.objects.filter(pk=document.pk).update(current_version=version)
    return version


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpeg": "image/jpeg", "png": "image/png", "tiff": "image/tiff",
}
