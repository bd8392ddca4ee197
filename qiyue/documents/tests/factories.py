"""Real files for the documents tests, made in memory with the libraries that write them. The
`storage` and `upload_tmp` fixtures and the waitress runner come from the vault's tests."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from qiyue.vault.tests.fixtures import (  # noqa: F401  (re-exported for the documents tests)
    running_waitress,
    storage_fixture,
    stored_blobs,
    upload_tmp_fixture,
)

CHINESE = "甲方：上海明德精密机械有限公司。乙方：杭州云栖数智科技有限公司。违约金为合同总额的百分之五。"


def make_pdf(text: str = CHINESE, pages: int = 1) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        pdf.setFont("STSong-Light", 12)
        pdf.drawString(72, 760, f"{text} ({page + 1})")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def make_docx(text: str = CHINESE) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("采购合同", level=1)
    document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "金额", "100,000 元"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(text: str = CHINESE) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["条款", "内容"])
    sheet.append(["1", text])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_image(fmt: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 60), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 110, 50), outline="black")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def make_encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf()))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return out.getvalue()


def make_zip_bomb() -> bytes:
    """A DOCX-shaped zip with one entry of 20 MB of zeros (about 20 KB compressed)."""
    return make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                     "word/media/filler.bin": b"\0" * (20 * 1024 * 1024)})


def make_zip_slip() -> bytes:
    return make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                     "../../evil.sh": b"#!/bin/sh\necho owned\n"})


def make_pdf_with_encrypt(encrypt: bytes) -> bytes:
    """A one-page PDF whose trailer names the /Encrypt dictionary `encrypt`, written byte by byte
    (pypdf will not write an encryption it cannot do itself: /V 0, a non-standard /Filter)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", encrypt]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    file_id = b"<00112233445566778899aabbccddeeff>"
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, file_id, file_id, xref))
    return bytes(out)


def make_zip_needing_version(version: int, data: bytes | None = None) -> bytes:
    """A DOCX whose local and central headers say "version needed to extract" is `version`
    (255 reads as 25.5), patched into the bytes zipfile wrote."""
    out = bytearray(data if data is not None else make_docx())
    for signature, offset in ((b"PK\x03\x04", 4), (b"PK\x01\x02", 6)):
        start = out.find(signature)
        while start >= 0:
            out[start + offset:start + offset + 2] = version.to_bytes(2, "little")
            start = out.find(signature, start + 4)
    return bytes(out)


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 8 + b"\x02\x00\x3e\x00" + b"\0" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 52 + b"\x80\x00\x00\x00" + b"\0" * 64 + b"PE\0\0" + b"\0" * 100

FORMATS = {
    "pdf": ("合同.pdf", make_pdf, "application/pdf"),
    "docx": ("合同.docx", make_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("清单.xlsx", make_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "png": ("扫描件.png", lambda: make_image("PNG"), "image/png"),
    "jpeg": ("扫描件.jpg", lambda: make_image("JPEG"), "image/jpeg"),
    "tiff": ("扫描件.tiff", lambda: make_image("TIFF"), "image/tiff"),
}


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
