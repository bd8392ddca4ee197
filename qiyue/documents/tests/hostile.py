"""A corpus of hostile files, made in memory by the test set-up (nothing is checked in): type
confusion, polyglots, macro-bearing Office files, zip bombs with lying headers, pixel bombs, damaged
images, encrypted and damaged PDFs, and benign controls of each type. Each case names the outcome the
upload gate must give (accepted, or refused with a code and a status) and, for accepted files, what
text extraction must end in. Used by test_hostile_files.py."""

import io
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw

from . import factories as f

# --- building blocks -------------------------------------------------------------------------------


def picture(width: int = 240, height: int = 120) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, width - 10, height - 10), outline="black", width=3)
    draw.line((10, 10, width - 10, height - 10), fill="navy", width=2)
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def pixel_bomb_png(width: int = 12_000, height: int = 12_000) -> bytes:
    """An RGB PNG of black pixels, written row by row: 12,000 × 12,000 is 432 MB of pixels in about
    420 KB (the issue's 446 KB bomb), made without ever holding the image."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)  # filter byte, then the pixels
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def raw_png(width: int, height: int, raw: bytes, *, color: int = 2, interlace: int = 0) -> bytes:
    """A PNG of 8-bit samples whose image data is `raw` (filter bytes included) as given."""
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def interlaced_png(width: int = 33, height: int = 17) -> bytes:
    """An Adam7-interlaced RGB PNG (black): seven reduced images, a filter byte before each row."""
    size = 0
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        columns, rows = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if columns and rows:
            size += rows * (1 + 3 * columns)
    return raw_png(width, height, b"\0" * size, interlace=1)


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims width × height."""
    data = bytearray(encode(picture(), "JPEG", quality=80))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_with_size(width: int, height: int) -> bytes:
    """A small uncompressed TIFF whose ImageWidth and ImageLength tags are patched."""
    data = bytearray(encode(picture(), "TIFF"))
    assert data[:2] == b"II"
    ifd = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[ifd:ifd + 2])[0]
    for index in range(count):
        entry = ifd + 2 + 12 * index
        tag, kind = struct.unpack("<HH", data[entry:entry + 4])
        if tag in (256, 257):
            value = width if tag == 256 else height
            data[entry + 8:entry + 12] = (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    return bytes(data)


def camera_jpeg() -> bytes:
    """As a camera writes it: EXIF inside (APP1), then padding after the end marker."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Canon", "Canon EOS R6", 1
    return encode(picture(640, 480), "JPEG", quality=90, exif=exif.tobytes()) + b"\0" * 512


def multi_picture_jpeg() -> bytes:
    """A JPEG followed by a second, smaller one (a phone's preview or depth map, CIPA MPF)."""
    return encode(picture(640, 480), "JPEG") + encode(picture(160, 120), "JPEG")


def rebuilt_zip(data: bytes, *, replace: dict | None = None, add: dict | None = None) -> bytes:
    """The Office file `data` written again, with some parts changed (bytes → bytes) or added."""
    replace, add = replace or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename in replace:
                content = replace[info.filename](content)
            target.writestr(info.filename, content)
        for name, content in add.items():
            target.writestr(name, content)
    return out.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504  # the start of a VBA project (a compound file)
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def docm_renamed() -> bytes:
    """A macro-enabled Word document (.docm) saved as .docx: its content type, the VBA project and the
    relationship to it."""
    def types(xml):
        xml = xml.replace(DOCX_MAIN, b"application/vnd.ms-word.document.macroEnabled.main+xml")
        return xml.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.'
                                        b'vbaProject"/></Types>')

    def rels(xml):
        return xml.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
                                                b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                                b"</Relationships>")

    return rebuilt_zip(f.make_docx(), replace={"[Content_Types].xml": types, "word/_rels/document.xml.rels": rels},
                       add={"word/vbaProject.bin": OLE})


def xlsm_renamed() -> bytes:
    def types(xml):
        return xml.replace(XLSX_MAIN, b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")

    return rebuilt_zip(f.make_xlsx(), replace={"[Content_Types].xml": types}, add={"xl/vbaProject.bin": OLE})


def docx_with_content_type_only() -> bytes:
    return rebuilt_zip(f.make_docx(), replace={"[Content_Types].xml": lambda xml: xml.replace(
        DOCX_MAIN, b"application/vnd.ms-word.document.macroEnabled.main+xml")})


def docx_with_remote_template() -> bytes:
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/attachedTemplate" Target="http://templates.example/t.dotm" '
            b'TargetMode="External"/></Relationships>')
    return rebuilt_zip(f.make_docx(), add={"word/_rels/settings.xml.rels": rels})


def docx_with_relationship(part: str, kind: str, target: str) -> bytes:
    """A DOCX whose relationship part `part` (added, or added to) holds an external relationship of
    type `kind`."""
    relationship = (f'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships/{kind}" Target="{target}" TargetMode="External"/>').encode()
    data = f.make_docx()
    if part in zipfile.ZipFile(io.BytesIO(data)).namelist():
        return rebuilt_zip(data, replace={part: lambda xml: xml.replace(b"</Relationships>",
                                                                        relationship + b"</Relationships>")})
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships">' + relationship + b"</Relationships>")
    return rebuilt_zip(data, add={part: rels})


def _patch_sizes(data: bytes, name: str, *, file_size: int | None = None, compress_size: int | None = None) -> bytes:
    """Rewrite the sizes `name`'s local and central headers declare."""
    out = bytearray(data)
    encoded = name.encode()
    for signature, csize_at, name_at in ((b"PK\x03\x04", 18, 30), (b"PK\x01\x02", 20, 46)):
        start = out.find(signature)
        while start >= 0:
            if out[start + name_at:start + name_at + len(encoded)] == encoded:
                if compress_size is not None:
                    out[start + csize_at:start + csize_at + 4] = struct.pack("<I", compress_size)
                if file_size is not None:
                    out[start + csize_at + 4:start + csize_at + 8] = struct.pack("<I", file_size)
            start = out.find(signature, start + 4)
    return bytes(out)


def docx_with_part(name: str, content: bytes, compression=zipfile.ZIP_DEFLATED) -> bytes:
    data = f.make_docx()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return out.getvalue()


def lying_bomb(real: int = 30 * 1024 * 1024, declared: int = 4096) -> bytes:
    """A DOCX with a part of `real` bytes of zeros whose headers declare `declared` bytes: the
    directory looks harmless, the data is a bomb."""
    return _patch_sizes(docx_with_part("word/media/image1.bin", b"\0" * real), "word/media/image1.bin",
                        file_size=declared)


def overstated_part() -> bytes:
    """A part whose headers declare more than it holds (the directory and the data disagree)."""
    return _patch_sizes(docx_with_part("word/media/image1.bin", b"A" * 5000), "word/media/image1.bin",
                        file_size=9000)


def understated_compressed_size() -> bytes:
    data = docx_with_part("word/media/image1.bin", bytes(range(256)) * 400)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/media/image1.bin")
    return _patch_sizes(data, "word/media/image1.bin", compress_size=info.compress_size // 2)


def overlapping_entries() -> bytes:
    """Two directory entries pointing at the same local data under different names (the trick of
    non-recursive zip bombs, and of parser differentials)."""
    data = bytearray(f.make_docx())
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("word/document.xml")
    end = data.rfind(b"PK\x05\x06")
    entries, cd_size, cd_offset = struct.unpack("<HII", data[end + 10:end + 20])
    start = data.find(b"PK\x01\x02", cd_offset)
    while start >= 0:
        name_length = struct.unpack("<H", data[start + 28:start + 30])[0]
        if data[start + 46:start + 46 + name_length] == info.filename.encode():
            break
        start = data.find(b"PK\x01\x02", start + 4)
    extra, comment = struct.unpack("<HH", data[start + 30:start + 34])
    entry = bytearray(data[start:start + 46 + name_length + extra + comment])
    entry[46:46 + name_length] = b"word/documenX.xml"
    central_end = cd_offset + cd_size
    data[central_end:central_end] = entry
    end += len(entry)
    data[end + 8:end + 20] = struct.pack("<HHII", entries + 1, entries + 1, cd_size + len(entry), cd_offset)
    return bytes(data)


def raw_pdf(objects: list[bytes], *, root: int = 1, extra_trailer: bytes = b"", xref: bool = True) -> bytes:
    """A PDF written object by object (what no library will write: lies, bombs, missing parts)."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (len(objects) + 1, root, extra_trailer)
    if xref:
        out += b"startxref\n%d\n" % start
    out += b"%%EOF\n"
    return bytes(out)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


@cache
def pdf_with_huge_image(side: int = 12_000) -> bytes:
    """A one-page PDF showing a side × side greyscale image (144 Mpx, about 140 KB deflated) drawn
    two inches wide: PDFium would decode all of it to render the page."""
    compressor = zlib.compressobj(9)
    row = b"\0" * side
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    content = b"q 144 0 0 144 72 600 cm /Im0 Do Q"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        stream(b"", content),
        stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
               b"/BitsPerComponent 8 /Filter /FlateDecode" % (side, side), pixels),
    ])


def pdf_without_pages() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def pdf_without_xref() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << "
                    b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
                    stream(b"", b"BT /F1 18 Tf 72 760 Td (Contract without a cross-reference table) Tj ET")],
                   xref=False)


def owner_password_pdf() -> bytes:
    """Encrypted with an empty user password: it opens without asking, but it is still encrypted."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(f.make_pdf()))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_with_stray_zip_signature() -> bytes:
    """A PNG whose comment holds the four bytes that end a ZIP archive (and an empty directory after
    them): compressed data has such bytes now and then; it is no archive."""
    data = encode(picture(), "PNG")
    end = data.rfind(b"IEND") - 4
    comment = png_chunk(b"tEXt", b"Comment\0PK\x05\x06" + b"\0" * 18)
    return data[:end] + comment + data[end:]


def bad_crc_png() -> bytes:
    data = bytearray(encode(picture(), "PNG"))
    idat = data.find(b"IDAT")
    data[idat + 10] ^= 0xFF
    return bytes(data)


# --- the corpus ------------------------------------------------------------------------------------

OCR = shutil.which("tesseract") is not None
# What extracting a benign image ends in: its text with Tesseract, else failed ocr_unavailable.
IMAGE_TEXT = "done" if OCR else "failed:ocr_unavailable"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@dataclass(frozen=True)
class Case:
    id: str
    family: str
    name: str
    make: object            # () -> bytes
    code: str | None        # None: accepted
    status: int = 400
    extraction: str = ""    # for accepted files: "done" or "failed:<reason code>"

    @property
    def accepted(self) -> bool:
        return self.code is None


def _pdf_zip():
    return f.make_pdf() + f.make_zip({"payload.js": b"app.alert(1)"})


CORPUS = [
    # Type confusion: the name (and the client's content type) says one thing, the bytes another.
    Case("html-as-pdf", "type confusion", "合同.pdf", lambda: HTML, "file_type_not_allowed"),
    Case("html-as-png", "type confusion", "scan.png", lambda: HTML, "file_type_not_allowed"),
    Case("svg-as-png", "type confusion", "logo.png",
         lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "file_type_not_allowed"),
    Case("exe-as-docx", "type confusion", "contract.docx", lambda: f.PE, "file_type_not_allowed"),
    Case("elf-as-pdf", "type confusion", "contract.pdf", lambda: f.ELF, "file_type_not_allowed"),
    Case("text-as-xlsx", "type confusion", "list.xlsx", lambda: "条款,内容\n1,付款\n".encode(), "file_type_not_allowed"),
    Case("png-named-pdf", "type confusion", "scan.pdf", lambda: encode(picture(), "PNG"), "file_type_mismatch"),
    Case("pdf-named-html", "type confusion", "page.html", f.make_pdf, "file_type_mismatch"),
    Case("html-behind-png-signature", "type confusion", "scan.png", lambda: b"\x89PNG\r\n\x1a\n" + HTML,
         "image_corrupt"),
    Case("html-behind-jpeg-signature", "type confusion", "scan.jpg", lambda: b"\xff\xd8\xff\xe0" + HTML,
         "image_corrupt"),
    Case("junk-behind-tiff-signature", "type confusion", "scan.tiff", lambda: b"II*\x00" + bytes(range(256)) * 8,
         "image_corrupt"),
    Case("zip-of-a-docx", "type confusion", "contract.docx", lambda: f.make_zip({"contract.docx": f.make_docx()}),
         "file_type_not_allowed"),
    # Polyglots: a valid file with a second one behind it.
    Case("jpeg+zip", "polyglot", "photo.jpg", lambda: encode(picture(), "JPEG") + f.make_zip({"a.js": b"x"}),
         "file_polyglot"),
    Case("png+zip", "polyglot", "scan.png", lambda: encode(picture(), "PNG") + f.make_zip({"a.js": b"x"}),
         "file_polyglot"),
    Case("tiff+zip", "polyglot", "scan.tiff", lambda: encode(picture(), "TIFF") + f.make_zip({"a.js": b"x"}),
         "file_polyglot"),
    Case("pdf+zip", "polyglot", "合同.pdf", _pdf_zip, "file_polyglot"),
    Case("png+html", "polyglot", "scan.png", lambda: encode(picture(), "PNG") + HTML, "file_polyglot"),
    Case("jpeg+html", "polyglot", "photo.jpg", lambda: encode(picture(), "JPEG") + HTML, "file_polyglot"),
    Case("pdf+html", "polyglot", "合同.pdf", lambda: f.make_pdf() + HTML, "file_polyglot"),
    # Macro-bearing Office files under a plain name.
    Case("docm-renamed", "macros", "合同.docx", docm_renamed, "office_macros"),
    Case("xlsm-renamed", "macros", "清单.xlsx", xlsm_renamed, "office_macros"),
    Case("vba-project-injected", "macros", "合同.docx",
         lambda: rebuilt_zip(f.make_docx(), add={"word/vbaProject.bin": OLE}), "office_macros"),
    Case("macro-content-type-only", "macros", "合同.docx", docx_with_content_type_only, "office_macros"),
    Case("activex-control", "macros", "合同.docx",
         lambda: rebuilt_zip(f.make_docx(), add={"word/activeX/activeX1.xml": b"<ax:ocx/>"}), "office_macros"),
    Case("excel4-macro-sheet", "macros", "清单.xlsx",
         lambda: rebuilt_zip(f.make_xlsx(), add={"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"}), "office_macros"),
    Case("remote-template", "macros", "合同.docx", docx_with_remote_template, "office_macros"),
    Case("remote-ole-object", "macros", "合同.docx",  # as CVE-2022-30190 ("Follina") did
         lambda: docx_with_relationship("word/_rels/document.xml.rels", "oleObject",
                                        "mhtml:http://files.example/x.html!x-usc:http://files.example/x.html"),
         "office_macros"),
    # Zip bombs and zips whose headers lie.
    Case("bomb-lying-size", "zip", "合同.docx", lying_bomb, "zip_bomb"),
    Case("bomb-lying-size-small", "zip", "合同.docx", lambda: lying_bomb(real=200_000, declared=1000), "zip_bomb"),
    Case("bomb-honest-ratio", "zip", "合同.docx", f.make_zip_bomb, "zip_bomb"),
    Case("bomb-declared-total", "zip", "合同.docx",
         lambda: _patch_sizes(docx_with_part("word/media/a.bin", b"x" * 100), "word/media/a.bin",
                              file_size=300 * 1024 * 1024), "zip_bomb"),
    Case("too-many-parts", "zip", "清单.xlsx",
         lambda: f.make_zip({"xl/workbook.xml": b"<x/>", **{f"xl/p{i}.xml": b"" for i in range(2001)}}), "zip_bomb"),
    Case("size-overstated", "zip", "合同.docx", overstated_part, "zip_corrupt"),
    Case("compressed-size-understated", "zip", "合同.docx", understated_compressed_size, "zip_corrupt"),
    Case("overlapping-entries", "zip", "合同.docx", overlapping_entries, "zip_corrupt"),
    Case("zip-slip", "zip", "合同.docx", f.make_zip_slip, "zip_unsafe_path"),
    # Pixel bombs: small files, huge images.
    Case("png-12000x12000", "pixel bomb", "scan.png", pixel_bomb_png, "image_too_large"),
    Case("png-8000x8000", "pixel bomb", "scan.png", lambda: pixel_bomb_png(8000, 8000), "image_too_large"),
    Case("jpeg-claims-60000x60000", "pixel bomb", "photo.jpg", lambda: jpeg_with_size(60_000, 60_000),
         "image_too_large"),
    Case("jpeg-claims-9000x9000", "pixel bomb", "photo.jpg", lambda: jpeg_with_size(9000, 9000), "image_too_large"),
    Case("tiff-claims-30000x30000", "pixel bomb", "scan.tiff", lambda: tiff_with_size(30_000, 30_000),
         "image_too_large"),
    # Damaged images.
    Case("png-truncated", "damaged image", "scan.png", lambda: encode(picture(), "PNG")[:-40], "image_corrupt"),
    Case("png-bad-crc", "damaged image", "scan.png", bad_crc_png, "image_corrupt"),
    Case("jpeg-truncated", "damaged image", "photo.jpg", lambda: encode(picture(), "JPEG")[:400], "image_corrupt"),
    Case("png-more-rows-than-its-size", "damaged image", "scan.png",
         lambda: raw_png(100, 10, b"\0" * (301 * 10 + 301 * 500)), "image_corrupt"),
    Case("png-fewer-rows-than-its-size", "damaged image", "scan.png",
         lambda: raw_png(100, 1000, b"\0" * (301 * 10)), "image_corrupt"),
    Case("tiff-truncated", "damaged image", "scan.tiff", lambda: encode(picture(), "TIFF")[:2000], "image_corrupt"),
    # Encrypted PDFs.
    Case("pdf-encrypted-standard", "encrypted pdf", "合同.pdf", f.make_encrypted_pdf, "pdf_encrypted"),
    Case("pdf-encrypted-owner-only", "encrypted pdf", "合同.pdf", owner_password_pdf, "pdf_encrypted"),
    Case("pdf-encrypted-v0", "encrypted pdf", "合同.pdf",
         lambda: f.make_pdf_with_encrypt(b"<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"), "pdf_encrypted"),
    Case("pdf-encrypted-vendor-filter", "encrypted pdf", "合同.pdf",
         lambda: f.make_pdf_with_encrypt(b"<< /Filter /VendorLock /V 1 /R 2 >>"), "pdf_encrypted"),
    Case("pdf-encrypted-pubsec", "encrypted pdf", "合同.pdf",
         lambda: f.make_pdf_with_encrypt(b"<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 >>"),
         "pdf_encrypted"),
    # Damaged PDFs.
    Case("pdf-truncated", "damaged pdf", "合同.pdf", lambda: f.make_pdf()[:-300], "pdf_corrupt"),
    Case("pdf-garbage", "damaged pdf", "合同.pdf", lambda: b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n",
         "pdf_corrupt"),
    Case("pdf-no-pages", "damaged pdf", "合同.pdf", pdf_without_pages, "pdf_corrupt"),
    Case("pdf-no-xref", "damaged pdf", "合同.pdf", pdf_without_xref, "pdf_corrupt"),
    # Accepted: benign controls of each type, and edge files a real user sends.
    Case("benign-pdf", "benign", "合同.pdf", f.make_pdf, None, extraction="done"),
    Case("benign-docx", "benign", "合同.docx", f.make_docx, None, extraction="done"),
    Case("benign-xlsx", "benign", "清单.xlsx", f.make_xlsx, None, extraction="done"),
    Case("benign-png", "benign", "扫描件.png", lambda: encode(picture(), "PNG"), None, extraction=IMAGE_TEXT),
    Case("benign-jpeg", "benign", "扫描件.jpg", lambda: encode(picture(), "JPEG"), None, extraction=IMAGE_TEXT),
    Case("benign-tiff", "benign", "扫描件.tiff", lambda: encode(picture(), "TIFF", compression="tiff_lzw"), None,
         extraction=IMAGE_TEXT),
    Case("camera-jpeg-exif-padding", "benign edge", "IMG_0001.JPG", camera_jpeg, None, extraction=IMAGE_TEXT),
    Case("jpeg-multi-picture", "benign edge", "IMG_0002.jpg", multi_picture_jpeg, None, extraction=IMAGE_TEXT),
    Case("jpeg-progressive", "benign edge", "photo.jpeg",
         lambda: encode(picture(), "JPEG", progressive=True, optimize=True), None, extraction=IMAGE_TEXT),
    Case("png-16-bit-grey", "benign edge", "scan.png",
         lambda: encode(Image.linear_gradient("L").convert("I;16"), "PNG"), None, extraction=IMAGE_TEXT),
    Case("png-interlaced", "benign edge", "scan.png", interlaced_png, None, extraction=IMAGE_TEXT),
    Case("png-1-bit", "benign edge", "scan.png", lambda: encode(picture().convert("1"), "PNG"), None,
         extraction=IMAGE_TEXT),
    Case("png-palette", "benign edge", "scan.png", lambda: encode(picture().convert("P"), "PNG"), None,
         extraction=IMAGE_TEXT),
    Case("png-stray-zip-signature", "benign edge", "scan.png", png_with_stray_zip_signature, None,
         extraction=IMAGE_TEXT),
    Case("png-small-trailer", "benign edge", "scan.png", lambda: encode(picture(), "PNG") + b"\n" * 16, None,
         extraction=IMAGE_TEXT),
    Case("tiff-multi-page", "benign edge", "scan.tiff",
         lambda: encode(picture(), "TIFF", save_all=True, append_images=[picture(200, 100)]), None,
         extraction=IMAGE_TEXT),
    Case("docx-local-template", "benign edge", "合同.docx",  # as Word records a template on the author's disk
         lambda: docx_with_relationship("word/_rels/settings.xml.rels", "attachedTemplate",
                                        "file:///C:/Users/li/AppData/Roaming/Microsoft/Templates/合同模板.dotx"),
         None, extraction="done"),
    Case("pdf-padded-after-eof", "benign edge", "合同.pdf", lambda: f.make_pdf() + b"\r\n" + b"\0" * 700, None,
         extraction="done"),
    Case("pdf-huge-embedded-image", "benign edge", "合同.pdf", pdf_with_huge_image, None,
         extraction="failed:too_large"),
    Case("docx-with-nested-zip-bomb", "benign edge", "合同.docx",
         lambda: docx_with_part("word/embeddings/package.zip", f.make_zip_bomb(), zipfile.ZIP_STORED), None,
         extraction="done"),
]
