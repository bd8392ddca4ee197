"""Safe uploads: a size limit enforced while the request streams in, the type detected from the
content (never from the name), zip checks for DOCX/XLSX before anything is extracted (real sizes
counted while decompressing, no macros), PDF sanity checks, images decoded within a pixel limit,
no second file behind the first (polyglots), and cleaned display names.

`inspect_upload` is the one gate every upload (UI, API, commands) passes before a blob is written.
Until then an uploaded file waits in memory or in an encrypted temporary file
(`qiyue.vault.uploadhandlers`), never as plaintext on disk.
"""

import io
import logging
import re
import struct
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.vault.uploadhandlers import max_upload_bytes

from . import filechecks
from .errors import DocumentErrorCode, document_error
from .models import FileType

CONTENT_TYPES = {
    FileType.PDF: "application/pdf",
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileType.JPEG: "image/jpeg",
    FileType.PNG: "image/png",
    FileType.TIFF: "image/tiff",
}
EXTENSIONS = {
    "pdf": FileType.PDF, "docx": FileType.DOCX, "xlsx": FileType.XLSX, "jpg": FileType.JPEG,
    "jpeg": FileType.JPEG, "png": FileType.PNG, "tif": FileType.TIFF, "tiff": FileType.TIFF,
}
DEFAULT_EXTENSION = {FileType.PDF: "pdf", FileType.DOCX: "docx", FileType.XLSX: "xlsx", FileType.JPEG: "jpg",
                     FileType.PNG: "png", FileType.TIFF: "tiff"}
ACCEPT = ",".join(f".{ext}" for ext in EXTENSIONS)

MAX_NAME = 200
READ_CHUNK = 64 * 1024


def too_large_error():
    return document_error(DocumentErrorCode.FILE_TOO_LARGE,
                          _("The file is larger than the limit of %(mb)s MB.") % {"mb": settings.QIYUE_MAX_UPLOAD_MB})


class SizeLimitUploadHandler(FileUploadHandler):
    """Put first in `request.upload_handlers`: a file that grows past the limit is dropped while it
    streams (the rest of it is read and discarded, never kept), and its field name is noted in
    `request.oversize_uploads` so the view can answer file_too_large."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0
        if request is not None:
            request.oversize_uploads = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.oversize_uploads.append(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def install_size_limit(request) -> None:
    """Must run before request.POST / request.FILES is first read."""
    request.upload_handlers.insert(0, SizeLimitUploadHandler(request))


def iter_chunks(file: BinaryIO, *, limit: int | None = None):
    """Read an uploaded file in chunks with a running count; past `limit` → file_too_large."""
    limit = max_upload_bytes() if limit is None else limit
    file.seek(0)
    total = 0
    while chunk := file.read(READ_CHUNK):
        total += len(chunk)
        if total > limit:
            raise too_large_error()
        yield chunk


# Control characters, bidi overrides/isolates and other format characters (Cc, Cf) and
# separators that are not plain spaces are removed; Chinese and other letters stay.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def clean_filename(name: str) -> str:
    """A display name safe to show and to send back: no path, no control or bidi characters,
    at most 200 characters (the extension kept), never empty."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(" " if ch in "\t\n\r" else ch for ch in name
                   if ch in "\t\n\r" or unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if name in ("", ".", ".."):
        name = "file"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[:MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME].rstrip()
    return name


def title_from_filename(name: str) -> str:
    """The default title: the cleaned name without its extension."""
    stem, dot, ext = name.rpartition(".")
    return (stem if dot and stem and ext.lower() in EXTENSIONS else name)[:255]


@dataclass(frozen=True)
class Inspection:
    filename: str
    file_type: str
    content_type: str
    size: int


def _detect(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileType.TIFF
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _unsafe_member(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in PurePosixPath(name).parts


def not_allowed_error():
    return document_error(DocumentErrorCode.FILE_TYPE_NOT_ALLOWED,
                          _("Only PDF, Word (DOCX), Excel (XLSX) and JPEG/PNG/TIFF files are allowed."))


# What a user is told for each problem the content checks find (image_too_large names the limit).
PROBLEM_MESSAGES = {
    "zip_bomb": (DocumentErrorCode.ZIP_BOMB, gettext_lazy("The file expands to far more data than it holds (a zip bomb).")),
    "zip_unsupported": (DocumentErrorCode.ZIP_UNSUPPORTED,
                        gettext_lazy("The file is packed in a way that cannot be read (an unknown zip version, "
                          "compression or encryption). Save it again from Word or Excel and upload that.")),
    "zip_corrupt": (DocumentErrorCode.ZIP_CORRUPT,
                    gettext_lazy("The Word or Excel file is damaged (its parts do not match their headers). "
                      "Save it again from Word or Excel and upload that.")),
    "office_macros": (DocumentErrorCode.OFFICE_MACROS,
                      gettext_lazy("The file contains macros or other active content (VBA, ActiveX, macro sheets, "
                        "or a template or object loaded from elsewhere). Save it as a plain .docx "
                        "or .xlsx without macros and upload that.")),
    "file_polyglot": (DocumentErrorCode.FILE_POLYGLOT,
                      gettext_lazy("The file carries other data after its end (another file hidden in it). "
                        "Save or export it again and upload that.")),
    "image_too_large": (DocumentErrorCode.IMAGE_TOO_LARGE,
                        gettext_lazy("The image has more than %(mp)s million pixels. Scale it down (300 dpi is "
                          "enough for a scan) and upload it again.")),
    "image_corrupt": (DocumentErrorCode.IMAGE_CORRUPT,
                      gettext_lazy("The image is damaged or is not really an image of its type.")),
}


def _problem_error(problem: filechecks.FileProblem):
    """The upload error for a problem the content checks found."""
    if problem.code == "zip_bomb" and problem.entries:
        return document_error(DocumentErrorCode.ZIP_BOMB, _("The file holds too many parts (more than %(n)s).")
                              % {"n": filechecks.ZIP_MAX_ENTRIES})
    code, message = PROBLEM_MESSAGES.get(problem.code, PROBLEM_MESSAGES["image_corrupt"])
    if code == DocumentErrorCode.IMAGE_TOO_LARGE:
        message = message % {"mp": f"{settings.QIYUE_MAX_IMAGE_PIXELS / 1_000_000:g}"}
    return document_error(code, message)


def _inspect_zip(file: BinaryIO) -> str:
    try:
        infos = filechecks.zip_infos(file)
    except filechecks.FileProblem as problem:
        if problem.code == "zip_corrupt":  # not a zip that anything reads: not an Office file
            raise not_allowed_error() from problem
        raise _problem_error(problem) from problem
    if any(_unsafe_member(info.filename) for info in infos):
        raise document_error(DocumentErrorCode.ZIP_UNSAFE_PATH,
                             _("The file contains a part with an unsafe path."))
    names = {info.filename for info in infos}
    if "word/document.xml" in names:
        detected = FileType.DOCX
    elif "xl/workbook.xml" in names:
        detected = FileType.XLSX
    else:
        raise not_allowed_error()
    try:
        scan = filechecks.zip_scan(file, infos)  # real sizes, counted while decompressing
        macros = filechecks.office_macros(infos, scan)
    except filechecks.FileProblem as problem:
        raise _problem_error(problem) from problem
    if macros:
        raise _problem_error(filechecks.FileProblem("office_macros", macros))
    return detected


IMAGE_FORMATS = {FileType.PNG: "PNG", FileType.JPEG: "JPEG", FileType.TIFF: "TIFF"}


def _inspect_image(file: BinaryIO, detected: str) -> None:
    """Decode the image, frame by frame, within the pixel limit; refuse what follows its end."""
    from PIL import Image, UnidentifiedImageError

    limit = settings.QIYUE_MAX_IMAGE_PIXELS
    file.seek(0)
    data = file.read()
    try:
        filechecks.image_trailing_check(data, detected)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the explicit check decides
            with Image.open(io.BytesIO(data), formats=[IMAGE_FORMATS[detected]]) as image:
                filechecks.check_pixels(image.width, image.height, limit)
                image.verify()  # PNG: every chunk's CRC
            with Image.open(io.BytesIO(data), formats=[IMAGE_FORMATS[detected]]) as image:
                frames = getattr(image, "n_frames", 1)
                if frames > filechecks.MAX_IMAGE_FRAMES:
                    raise filechecks.FileProblem("image_corrupt", f"{frames} frames")
                if detected == FileType.PNG and frames == 1:
                    # The image data decompressed as a stream to its exact size: bounded memory.
                    filechecks.png_data_check(data)
                    return
                for index in range(frames):
                    image.seek(index)
                    filechecks.check_pixels(image.width, image.height, limit)
                    if detected == FileType.JPEG:
                        # Every block is decoded, at an eighth of the size: bounded memory.
                        image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
                    image.load()  # a TIFF frame (or an animated PNG's): whole, within the pixel limit
    except filechecks.FileProblem as problem:
        raise _problem_error(problem) from problem
    except Image.DecompressionBombError as exc:
        raise _problem_error(filechecks.FileProblem("image_too_large")) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError,
            KeyError, TypeError, ZeroDivisionError) as exc:
        raise _problem_error(filechecks.FileProblem("image_corrupt", str(exc))) from exc


def _names_encryption(file: BinaryIO) -> bool:
    """Whether the PDF's bytes name an /Encrypt dictionary (trailers and xref stream dictionaries are
    never compressed, so the key is there as written)."""
    file.seek(0)
    tail = b""
    while chunk := file.read(READ_CHUNK):
        if b"/Encrypt" in tail + chunk:
            return True
        tail = chunk[-8:]
    return False


def _inspect_pdf(file: BinaryIO, size: int) -> None:
    corrupt = document_error(DocumentErrorCode.PDF_CORRUPT, _("The PDF is damaged or incomplete."))
    file.seek(max(0, size - 2048))
    tail = file.read()
    if b"%%EOF" not in tail:
        raise corrupt
    if len(tail.rpartition(b"%%EOF")[2].strip(b" \t\r\n\f\x00")) > filechecks.IMAGE_TRAILING_TOLERANCE:
        raise _problem_error(filechecks.FileProblem("file_polyglot", "data after the PDF's end"))
    import pypdf
    from pypdf.errors import PyPdfError

    file.seek(0)
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)  # a broken file makes pypdf chatty; the code says enough
    encrypted = document_error(DocumentErrorCode.PDF_ENCRYPTED,
                               _("The PDF is encrypted or password protected. Upload an unprotected copy."))
    try:
        reader = pypdf.PdfReader(file, strict=False)
        if reader.is_encrypted:
            raise encrypted
        pages = len(reader.pages)
    except NotImplementedError as exc:
        # pypdf reads the /Encrypt dictionary while it opens the file and refuses a handler or version it
        # does not know (/V 0, a public-key or other non-standard /Filter): still an encrypted file.
        raise (encrypted if _names_encryption(file) else corrupt) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            RecursionError, AssertionError) as exc:
        raise corrupt from exc
    finally:
        pypdf_log.setLevel(level)
    if pages < 1:
        raise corrupt


def inspect_upload(file: BinaryIO, name: str, *, size: int | None = None) -> Inspection:
    """Check an uploaded file; return its cleaned name and detected type, or raise an
    ApplicationError with a DocumentErrorCode. Reads only what it needs; leaves the file at 0."""
    filename = clean_filename(name)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size == 0:
        raise document_error(DocumentErrorCode.FILE_EMPTY, _("The file is empty."))
    if size > max_upload_bytes():
        raise too_large_error()
    file.seek(0)
    detected = _detect(file.read(8))
    if detected is None:
        raise not_allowed_error()
    try:
        if detected == "zip":
            file.seek(0)
            detected = _inspect_zip(file)
        else:
            # A PDF or an image that is also a ZIP archive (its directory at the end): a polyglot.
            if filechecks.is_zip_archive(file):
                raise _problem_error(filechecks.FileProblem("file_polyglot", "also a ZIP archive"))
            if detected == FileType.PDF:
                _inspect_pdf(file, size)
            else:
                _inspect_image(file, detected)
    finally:
        file.seek(0)
    stem, dot, ext = filename.rpartition(".")
    ext = ext.lower() if dot and stem else ""
    if ext and ext in EXTENSIONS:
        if EXTENSIONS[ext] != detected:
            raise document_error(
                DocumentErrorCode.FILE_TYPE_MISMATCH,
                _("The file name says .%(ext)s but the content is %(type)s.")
                % {"ext": ext, "type": FileType(detected).label})
    elif ext and re.fullmatch(r"[a-z][a-z0-9]{0,3}", ext):
        # Named as some other type (.exe, .doc, .html …) though the content is allowed.
        raise document_error(
            DocumentErrorCode.FILE_TYPE_MISMATCH,
            _("The file name says .%(ext)s but the content is %(type)s.")
            % {"ext": ext, "type": FileType(detected).label})
    else:  # no extension (or a version suffix such as "v1.2"): name it after its content
        filename = clean_filename(f"{filename}.{DEFAULT_EXTENSION[detected]}")
    return Inspection(filename=filename, file_type=detected, content_type=CONTENT_TYPES[detected], size=size)
