"""Content checks shared by the upload gate (uploads.py) and text extraction (textformats.py): what a
ZIP member really expands to, macros in Office files, the end of a JPEG or PNG and what follows it, and
image sizes. Pure functions of bytes and file objects; a problem raises FileProblem with a code the
caller turns into its own error (an upload's 4xx, an extraction's failure reason).

ZIP members are decompressed here from their local headers with a counter, never trusting the sizes
the headers declare: a member that expands past what its header says, past the per-member or total
cap, or past the compression-ratio cap stops the reading at that point.
"""

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO

# Caps on what a DOCX/XLSX expands to, counted while decompressing.
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_TOTAL = 200 * 1024 * 1024
ZIP_MAX_MEMBER = 100 * 1024 * 1024
ZIP_MAX_RATIO = 100
# Tiny entries (an empty part, a short XML) can have silly ratios without being dangerous.
ZIP_RATIO_MIN_SIZE = 1024 * 1024
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
READ_CHUNK = 64 * 1024
# The small parts read whole for the macro check ([Content_Types].xml and relationship parts).
KEPT_PART_MAX = 1024 * 1024

# Bytes after a JPEG's or PNG's end marker that are tolerated whatever they are (some encoders and
# tools leave a few bytes of padding); zero or 0xFF padding of any length is tolerated too.
IMAGE_TRAILING_TOLERANCE = 64
# Frames of a multi-frame TIFF checked (and OCR'd): a contract scan has tens of pages, not thousands.
MAX_IMAGE_FRAMES = 1000


class FileProblem(Exception):
    """`code`: zip_bomb, zip_corrupt, zip_unsupported, office_macros, file_polyglot, image_corrupt,
    image_too_large. `detail` says what was found (English, for logs and extraction reasons)."""

    def __init__(self, code: str, detail: str = "", *, entries: bool = False):
        self.code = code
        self.detail = detail
        self.entries = entries  # a zip_bomb for its number of entries
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass
class ZipScan:
    total: int = 0                                     # real decompressed bytes of all members
    parts: dict[str, bytes] = field(default_factory=dict)  # lower-cased name → content, small parts only


def _kept(name: str) -> bool:
    lower = name.lower()
    return lower == "[content_types].xml" or lower.endswith(".rels")


def zip_infos(file: BinaryIO) -> list[zipfile.ZipInfo]:
    """The central directory with the checks that need no decompression: entry count, methods,
    encryption, and the declared sizes and ratios (a first, cheap refusal)."""
    file.seek(0)
    try:
        infos = zipfile.ZipFile(file).infolist()
    except NotImplementedError as exc:  # e.g. "version needed to extract" beyond what zipfile reads
        raise FileProblem("zip_unsupported", str(exc)) from exc
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise FileProblem("zip_corrupt", str(exc)) from exc
    if len(infos) > ZIP_MAX_ENTRIES:
        raise FileProblem("zip_bomb", f"{len(infos)} entries, more than {ZIP_MAX_ENTRIES}", entries=True)
    declared = 0
    for info in infos:
        # Office files are stored or deflated and never zip-encrypted (ECMA-376 Part 2).
        if info.compress_type not in ZIP_METHODS or info.flag_bits & 0x1:
            raise FileProblem("zip_unsupported", f"{info.filename}: method {info.compress_type}, "
                                                 f"flags {info.flag_bits:#x}")
        declared += info.file_size
        _check_growth(info.filename, info.file_size, info.compress_size, declared, "declares")
    return infos


def _check_growth(name: str, size: int, compressed: int, total: int, verb: str) -> None:
    if size > ZIP_MAX_MEMBER:
        raise FileProblem("zip_bomb", f"{name} {verb} more than {ZIP_MAX_MEMBER} bytes")
    if total > ZIP_MAX_TOTAL:
        raise FileProblem("zip_bomb", f"the parts {verb} more than {ZIP_MAX_TOTAL} bytes together")
    if size > ZIP_RATIO_MIN_SIZE and size > ZIP_MAX_RATIO * max(compressed, 1):
        raise FileProblem("zip_bomb", f"{name} {verb} a compression ratio over {ZIP_MAX_RATIO}")


def zip_scan(file: BinaryIO, infos: list[zipfile.ZipInfo]) -> ZipScan:
    """Decompress every member from its local header, counting what comes out: stop with zip_bomb as
    soon as a member gives more than its header declares or a cap is passed; zip_corrupt when the
    local header disagrees with the central directory, the data ends early or the CRC is wrong."""
    scan = ZipScan()
    for info in infos:
        _scan_member(file, info, scan)
    return scan


def _scan_member(file: BinaryIO, info: zipfile.ZipInfo, scan: ZipScan) -> None:
    name = info.filename
    file.seek(info.header_offset)
    local = file.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise FileProblem("zip_corrupt", f"{name}: no local header where the directory points")
    flags, method = struct.unpack("<HH", local[6:10])
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw_name = file.read(name_length)
    local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
    if method != info.compress_type or local_name != info.orig_filename:
        # Two readers would see two different files (a parser-differential trick).
        raise FileProblem("zip_corrupt", f"{name}: the local header disagrees with the directory")
    file.seek(extra_length, 1)
    decompressor = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
    remaining = info.compress_size
    size = crc = 0
    keep = bytearray() if _kept(name) else None

    def produced(data: bytes) -> None:
        nonlocal size, crc
        if not data:
            return
        size += len(data)
        scan.total += len(data)
        crc = zlib.crc32(data, crc)
        if size > info.file_size:
            raise FileProblem("zip_bomb", f"{name} expands past the {info.file_size} bytes its header declares")
        _check_growth(name, size, info.compress_size, scan.total, "expands to")
        if keep is not None:
            if len(keep) + len(data) > KEPT_PART_MAX:
                raise FileProblem("zip_unsupported", f"{name} is larger than {KEPT_PART_MAX} bytes")
            keep.extend(data)

    while remaining > 0:
        chunk = file.read(min(READ_CHUNK, remaining))
        if not chunk:
            raise FileProblem("zip_corrupt", f"{name}: the data ends early")
        remaining -= len(chunk)
        if decompressor is None:
            produced(chunk)
            continue
        try:
            produced(decompressor.decompress(chunk, READ_CHUNK))
            while decompressor.unconsumed_tail:
                produced(decompressor.decompress(decompressor.unconsumed_tail, READ_CHUNK))
        except zlib.error as exc:
            raise FileProblem("zip_corrupt", f"{name}: {exc}") from exc
        if decompressor.eof:
            break
    if decompressor is not None and (not decompressor.eof or remaining or decompressor.unused_data):
        raise FileProblem("zip_corrupt", f"{name}: the compressed data does not end where the header says")
    if size != info.file_size or crc != info.CRC:
        raise FileProblem("zip_corrupt", f"{name}: size or CRC differs from the header")
    if keep is not None:
        scan.parts[name.lower()] = bytes(keep)


# Parts and content types that carry code: VBA projects (.docm/.xlsm and their templates), Excel 4
# macro sheets, ActiveX controls.
_MACRO_PART = re.compile(r"(^|/)(vbaproject\.bin|vbadata\.xml)$|(^|/)activex/|(^|/)macrosheets/")
_MACRO_TYPES = (b"macroenabled", b"vbaproject", b"activex", b"macrosheet", b"ms-office.vba")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""\b(Type|Target|TargetMode)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
# Relationships that make Word fetch and run something when the file opens, when they point outside:
# an attached template (remote template injection, which brings its macros), an OLE object or a frame
# (the mhtml:/http: objects of CVE-2021-40444 and "Follina", CVE-2022-30190). A template on the
# author's own disk (file:///C:/…/Templates/…dotx, as Word records it) is harmless and common.
_ACTIVE_RELATIONSHIPS = (b"/attachedtemplate", b"/oleobject", b"/frame", b"/subdocument")
_SCHEME = re.compile(rb"^[a-z][a-z0-9+.-]+:")  # two letters at least: C:\\ is a drive, not a scheme


def _remote(target: bytes) -> bool:
    """A target outside the author's machine: a URL (http:, mhtml:, ms-…:), a UNC path, file://host/."""
    lower = target.strip().lower()
    if lower.startswith(b"file:///") and not lower.startswith((b"file:////", b"file:///\\\\")):
        return False  # a path on the author's own disk
    if lower.startswith((b"file:", b"\\\\", b"//")):
        return True
    return bool(_SCHEME.match(lower))


def office_macros(infos: list[zipfile.ZipInfo], scan: ZipScan) -> str | None:
    """What makes this Office file macro-bearing (or loading active content from elsewhere), or None."""
    for info in infos:
        if _MACRO_PART.search(info.filename.lower()):
            return f"part {info.filename}"
    types = scan.parts.get("[content_types].xml", b"").lower()
    for marker in _MACRO_TYPES:
        if marker in types:
            return f"content type naming {marker.decode()}"
    for name, content in scan.parts.items():
        if not name.endswith(".rels"):
            continue
        for relationship in _RELATIONSHIP.findall(content):
            attributes = {key.lower(): value for key, value in _ATTRIBUTE.findall(relationship)}
            kind = attributes.get(b"type", b"").lower()
            if b"vbaproject" in kind:
                return f"a VBA project relationship in {name}"
            if (kind.endswith(_ACTIVE_RELATIONSHIPS) and attributes.get(b"targetmode", b"").lower() == b"external"
                    and _remote(attributes.get(b"target", b""))):
                return f"{kind.rsplit(b'/', 1)[-1].decode()} from {attributes[b'target'][:100].decode(errors='replace')}"
    return None


def is_zip_archive(file: BinaryIO) -> bool:
    """Whether a ZIP archive ends the file (its directory readable and naming at least one entry whose
    local header is there): what makes a PDF or an image a polyglot. Four bytes that happen to look
    like the end of a ZIP in compressed data do not count."""
    file.seek(0)
    try:
        if not zipfile.is_zipfile(file):
            return False
        infos = zipfile.ZipFile(file).infolist()
        if not infos:
            return False
        file.seek(infos[0].header_offset)
        return file.read(4) == b"PK\x03\x04"
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError, struct.error):
        return False
    finally:
        file.seek(0)


# --- images ----------------------------------------------------------------------------------------

def jpeg_end(data: bytes, start: int = 0) -> int | None:
    """The offset just past the EOI marker of the JPEG stream at `start` (walking its segments and
    the entropy-coded data of every scan), or None when the stream is broken or has no end."""
    n = len(data)
    if data[start:start + 2] != b"\xff\xd8":
        return None
    i = start + 2
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return i
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            continue
        if i + 2 > n:
            return None
        length = (data[i] << 8) | data[i + 1]
        if length < 2:
            return None
        i += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return None
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:  # a stuffed 0xFF or a restart marker
                    i = j + 2
                    continue
                if following == 0xFF:  # fill byte before a marker
                    i = j + 1
                    continue
                i = j
                break
    return None


def png_end(data: bytes) -> int | None:
    """The offset just past the IEND chunk, or None."""
    i, n = 8, len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i if i <= n else None
    return None


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_data_check(data: bytes) -> None:
    """Decompress a PNG's image data (its IDAT chunks) as a stream and check that it ends exactly at the
    size its header implies, holding a chunk at a time, never the image: a bounded decode. (Pillow would
    hold the whole image, 4 bytes a pixel, to check the same.) Raises image_corrupt."""
    if data[12:16] != b"IHDR":
        raise FileProblem("image_corrupt", "no IHDR chunk first")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if color not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16) or interlace not in (0, 1):
        raise FileProblem("image_corrupt", "an invalid IHDR chunk")
    bits = depth * _PNG_CHANNELS[color]
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    expected = 0
    for x0, y0, dx, dy in passes:
        columns, rows = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if columns and rows:
            expected += rows * (1 + (columns * bits + 7) // 8)
    decompressor = zlib.decompressobj()
    produced = 0
    i, n = 8, len(data)
    try:
        while i + 12 <= n:
            length = int.from_bytes(data[i:i + 4], "big")
            kind = data[i + 4:i + 8]
            if kind == b"IDAT" and not decompressor.eof:
                pending = data[i + 8:i + 8 + length]
                while pending:
                    produced += len(decompressor.decompress(pending, READ_CHUNK))
                    if produced > expected:
                        raise FileProblem("image_corrupt", "more image data than its size")
                    pending = decompressor.unconsumed_tail
            elif kind == b"IEND":
                break
            i += 12 + length
    except zlib.error as exc:
        raise FileProblem("image_corrupt", f"the image data is damaged ({exc})") from exc
    if not decompressor.eof or produced != expected:
        raise FileProblem("image_corrupt", f"{produced} bytes of image data, {expected} expected")


def _padding(rest: bytes) -> bool:
    return len(rest) <= IMAGE_TRAILING_TOLERANCE or not rest.strip(b"\x00\xff")


def image_trailing_check(data: bytes, image_format: str) -> None:
    """Refuse a JPEG or PNG that does not end where its format says, or carries something after its
    end (a ZIP, HTML, a script): image_corrupt when no end is found, file_polyglot for what follows.
    A JPEG may be followed by further complete JPEG streams: cameras store a large preview and depth
    maps that way (CIPA Multi-Picture Format, indexed from an APP2 segment inside the first image)."""
    if image_format == "jpeg":
        end = jpeg_end(data)
        if end is None:
            raise FileProblem("image_corrupt", "the JPEG has no end marker")
        while data.startswith(b"\xff\xd8\xff", end):
            following = jpeg_end(data, end)
            if following is None:
                break
            end = following
    elif image_format == "png":
        end = png_end(data)
        if end is None:
            raise FileProblem("image_corrupt", "the PNG has no IEND chunk")
    else:
        return
    rest = data[end:]
    if not _padding(rest):
        raise FileProblem("file_polyglot", f"{len(rest)} bytes after the end of the image")


def check_pixels(width: int, height: int, limit: int, *, where: str = "the image") -> None:
    if width * height > limit:
        raise FileProblem("image_too_large", f"{where} is {width}×{height} pixels, over the limit of {limit}")


def pdf_page_image_check(page, limit: int, *, number: int) -> None:
    """Refuse to render a PDF page (pypdfium2) that shows an image over `limit` pixels: PDFium decodes
    each image at its own size whatever the size it is drawn at."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        try:
            width, height = image.get_px_size()
        except pdfium.PdfiumError:
            continue
        check_pixels(width, height, limit, where=f"an image on page {number}")
