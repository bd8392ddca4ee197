"""Text out of each stored file type; pure functions of a binary file object, no database.

`extract(file_type, file)` returns Extracted(text, page_starts, page_count, ocr_used):
- PDF: the text layer of each page (pypdf); a page with (almost) no text but an image is rendered at
  300 dpi (pypdfium2) and OCR'd. A page each. A line break between two Chinese or Japanese characters
  is where the layout wrapped the line, not a word boundary: those lines are joined (see
  `join_wrapped_lines`), so a word the line broke is found whole.
- DOCX: headers, body paragraphs and tables in document order (content controls included), footers
  of every section; one page, the page count from docProps/app.xml when Word recorded it.
- XLSX: each sheet's name and its cell values, cells joined by tabs and rows by newlines; a page each.
- JPEG/PNG/TIFF: OCR; a page per frame of a multi-frame TIFF. Wrapped lines are joined as in a PDF.
Limits are checked again before anything is decoded, whenever the file was stored: an image (frame)
over QIYUE_MAX_IMAGE_PIXELS, or a PDF page to OCR that shows one, fails with `too_large`; a DOCX/XLSX
whose parts really expand past the zip caps (counted while decompressing) fails with `too_large`.
Text is normalised (see `normalize`) and capped at MAX_TEXT_CHARS. A file that cannot be read raises
ExtractionFailure with a stable code.

`extract(..., deadline=...)` takes a time.monotonic() deadline: it is checked between pages, rows
and frames, and no OCR call is given more time than remains, so a long scan stops at the deadline with
TimeLimitExceeded. (Parsing inside one page is interrupted by the caller's alarm, see
`extraction.time_limit`.)
"""

import datetime
import re
import time
import unicodedata
import zipfile
from enum import StrEnum
from typing import BinaryIO, NamedTuple

from django.conf import settings

from . import filechecks, ocr

MAX_TEXT_CHARS = 5_000_000
PAGE_SEPARATOR = "\n\n"
OCR_DPI = 300
# A PDF page whose text layer has fewer visible characters than this, and that shows an image,
# is a scan: it is OCR'd. (A page number or a stamp's caption is not a text layer.)
MIN_TEXT_LAYER_CHARS = 16


class FailureCode(StrEnum):
    INTEGRITY = "integrity"            # the stored bytes failed the GCM tag or SHA-256 check
    MISSING_FILE = "missing_file"      # the blob is not in storage
    STORAGE = "storage_error"          # storage could not be read (may be temporary)
    KEY_UNAVAILABLE = "key_unavailable"  # the master key that wraps the data key is not configured
    CORRUPT = "corrupt_file"
    ENCRYPTED = "encrypted_pdf"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported_type"
    OCR_TIMEOUT = "ocr_timeout"
    OCR_FAILED = "ocr_failed"
    OCR_UNAVAILABLE = "ocr_unavailable"
    TIME_LIMIT = "time_limit"          # reading the file took longer than the extraction time limit
    WORKER_LOST = "worker_lost"        # the worker stopped (killed, out of memory) while extracting it
    CRASHED = "crashed"                # the child process reading the file died (a signal, no result)
    UNEXPECTED = "unexpected"


# Worth another attempt later: the same bytes may succeed when the machine or storage is less busy.
# TIME_LIMIT is final: the same file would take as long again.
TRANSIENT = {FailureCode.STORAGE, FailureCode.KEY_UNAVAILABLE, FailureCode.OCR_TIMEOUT, FailureCode.OCR_FAILED,
             FailureCode.WORKER_LOST, FailureCode.CRASHED, FailureCode.UNEXPECTED}


class ExtractionFailure(Exception):
    def __init__(self, code: FailureCode, message: str):
        self.code = FailureCode(code)
        self.message = message
        super().__init__(f"{self.code}: {message}")

    def __reduce__(self):  # sent back from the extraction's child process
        return (ExtractionFailure, (self.code, self.message))

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT


class TimeLimitExceeded(BaseException):
    """The extraction ran past its deadline. A BaseException, like KeyboardInterrupt, so that the
    broad `except Exception` of a parser (or of a page loop here) does not swallow it."""


def check_deadline(deadline: float | None) -> None:
    """Raise TimeLimitExceeded once time.monotonic() has reached `deadline` (None: no deadline)."""
    if deadline is not None and time.monotonic() >= deadline:
        raise TimeLimitExceeded


class Extracted(NamedTuple):
    text: str
    page_starts: list[int]  # character offset in `text` where each page starts
    page_count: int | None
    ocr_used: bool


# --- normalisation -----------------------------------------------------------------------------

# C0/C1 controls except tab and newline, lone surrogates (not encodable, PostgreSQL refuses them),
# non-characters, and zero-width characters that would split a phrase a user searches for.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u200b-\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[^\\S\n\t]+")            # horizontal whitespace other than tab (incl. U+3000, NBSP)
_TABS = re.compile(" ?\t[\t ]*")
_LINE_EDGES = re.compile(" *\n[ \t]*")
_BLANK_LINES = re.compile("\n{3,}")
# Kangxi radicals (U+2F00–U+2FDF) and CJK radicals supplement look identical to common ideographs
# and are what many Chinese PDFs' fonts map to (⼈ for 人); NFC keeps them, so map them here.
_RADICALS = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x2E80, 0x2FE0)
             if unicodedata.normalize("NFKC", chr(cp)) != chr(cp)}


def normalize(text: str) -> str:
    """NFC, radicals to ideographs, no control or zero-width characters, one space for any run of
    spaces, at most one blank line in a row, no spaces at line ends; newlines and tabs are kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    text = unicodedata.normalize("NFC", text).translate(_RADICALS)
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _TABS.sub("\t", text)
    text = _LINE_EDGES.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


# Scripts written without spaces between words: Han ideographs (with extensions and compatibility
# forms) and kana. Hangul is left out: Korean puts spaces between words, so its lines wrap at them.
_UNSPACED = ("\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
             "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f")
_WRAPPED_LINE = re.compile(f"(?<=[{_UNSPACED}])\n(?=[{_UNSPACED}])")


def join_wrapped_lines(text: str) -> str:
    """Join the lines of normalised text where a single line break falls between two Chinese (or
    Japanese) characters: in a laid-out page (PDF, scan) that is where the line ran out of width, in
    the middle of a sentence or a word. Breaks next to Latin letters, digits or punctuation, and
    blank lines (paragraphs), stay."""
    return _WRAPPED_LINE.sub("", text)


class PageText:
    """Collects normalised pages into one text with the offset of each page, up to MAX_TEXT_CHARS."""

    def __init__(self, limit: int = MAX_TEXT_CHARS):
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.length = 0
        self.limit = limit

    @property
    def full(self) -> bool:
        return self.length >= self.limit

    def add(self, text: str, *, wrapped: bool = False) -> None:
        """Add a page; `wrapped`: its lines were wrapped by a layout (see join_wrapped_lines). Page
        offsets are those of the final text, after joining."""
        if self.full:
            return
        if self.parts:
            self.parts.append(PAGE_SEPARATOR)
            self.length += len(PAGE_SEPARATOR)
        self.starts.append(min(self.length, self.limit))
        text = normalize(text)
        if wrapped:
            text = join_wrapped_lines(text)
        text = text[: max(0, self.limit - self.length)]
        self.parts.append(text)
        self.length += len(text)

    def result(self, page_count: int | None, ocr_used: bool) -> Extracted:
        text = "".join(self.parts)[: self.limit]
        return Extracted(text, self.starts or [0], page_count, ocr_used)


# --- formats -----------------------------------------------------------------------------------

def _ocr(image, *, page: int, dpi: int | None = None, deadline: float | None = None) -> str:
    timeout = None
    if deadline is not None:  # Tesseract gets no more than the time left (and at most its own limit)
        check_deadline(deadline)
        timeout = min(ocr.TIMEOUT_SECONDS, max(deadline - time.monotonic(), 0.1))
    try:
        return ocr.ocr_image(image, dpi=dpi, timeout=timeout)
    except ocr.OcrError as exc:
        if exc.code == "ocr_timeout":
            check_deadline(deadline)  # it timed out because the extraction's time is up
        where = f" (page {page})" if page else ""
        raise ExtractionFailure(FailureCode(exc.code), f"{exc}{where}") from exc


def _visible_chars(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def extract_pdf(file: BinaryIO, *, limit: int = MAX_TEXT_CHARS, deadline: float | None = None) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(file)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionFailure(FailureCode.ENCRYPTED, "the PDF is encrypted with a password")
        pages = reader.pages
        page_count = len(pages)
    except ExtractionFailure:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractionFailure(FailureCode.ENCRYPTED, "the PDF is encrypted with a password") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError) as exc:
        raise ExtractionFailure(FailureCode.CORRUPT, f"the PDF cannot be read ({type(exc).__name__})") from exc

    out = PageText(limit)
    ocr_used = False
    rendered = None  # the pypdfium2 document, opened only when a page needs OCR
    try:
        for index in range(page_count):
            if out.full:
                break
            check_deadline(deadline)
            try:
                text = pages[index].extract_text() or ""
            except Exception:  # noqa: BLE001 - one broken content stream must not lose the other pages
                text = ""
            if _visible_chars(text) < MIN_TEXT_LAYER_CHARS:
                if rendered is None:
                    rendered = _open_pdfium(file)
                scanned = _ocr_pdf_page(rendered, index, deadline)
                if scanned is not None:
                    ocr_used = True
                    if _visible_chars(scanned) >= _visible_chars(text):
                        text = scanned
            out.add(text, wrapped=True)
    finally:
        if rendered is not None:
            rendered.close()
    return out.result(page_count, ocr_used)


def _open_pdfium(file: BinaryIO):
    import pypdfium2 as pdfium

    file.seek(0)
    try:
        return pdfium.PdfDocument(file.read(), password="")
    except pdfium.PdfiumError as exc:
        raise ExtractionFailure(FailureCode.CORRUPT, f"the PDF cannot be rendered ({exc})") from exc


def _ocr_pdf_page(document, index: int, deadline: float | None = None) -> str | None:
    """OCR of page `index` if it shows an image (a scan); None for a page with nothing to read."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        page = document[index]
    except pdfium.PdfiumError:
        return None
    try:
        if not any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3)):
            return None
        limit = settings.QIYUE_MAX_IMAGE_PIXELS
        try:  # PDFium decodes each image at its own size, however small it is drawn
            filechecks.pdf_page_image_check(page, limit, number=index + 1)
        except filechecks.FileProblem as problem:
            raise ExtractionFailure(FailureCode.TOO_LARGE, problem.detail) from problem
        width, height = page.get_size()
        scale = OCR_DPI / 72
        pixels = width * height * scale * scale
        cap = min(ocr.MAX_PIXELS, limit)
        if pixels > cap:  # a poster-sized page: render smaller rather than run out of memory
            scale *= (cap / pixels) ** 0.5
        # to_pil() shares the bitmap's buffer, so the bitmap is left to the garbage collector.
        image = page.render(scale=scale, grayscale=True).to_pil()
        return _ocr(image, page=index + 1, dpi=round(scale * 72), deadline=deadline)
    finally:
        page.close()


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_PAGES = re.compile(rb"<(?:\w+:)?Pages>\s*(\d+)\s*</")


def _run_text(element, out: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag == _W + "t":
            out.append(child.text or "")
        elif tag == _W + "tab":
            out.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            out.append("\n")
        elif tag == _MC_FALLBACK:  # the same content again, for old readers
            continue
        elif isinstance(tag, str):
            _run_text(child, out)


_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "smartTag"}


def _children(element, name: str):
    """Direct children named `name`, looking through content controls and similar wrappers."""
    for child in element:
        if child.tag == _W + name:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, name)


def _docx_blocks(element, out: list[str]) -> None:
    """Paragraphs and tables under a body, cell, header or footer, in document order."""
    for child in element:
        tag = child.tag
        if tag == _W + "p":
            parts: list[str] = []
            _run_text(child, parts)
            out.append("".join(parts))
        elif tag == _W + "tbl":
            for row in _children(child, "tr"):
                cells = []
                for cell in _children(row, "tc"):
                    cell_lines: list[str] = []
                    _docx_blocks(cell, cell_lines)
                    cells.append(" ".join(line for line in cell_lines if line.strip()))
                out.append("\t".join(cells))
        elif tag in _WRAPPERS:
            _docx_blocks(child, out)


def check_office_zip(file: BinaryIO, label: str) -> None:
    """What the upload gate checks again before a parser reads the file: the real size of every part,
    counted while decompressing (a file stored before the check, or a header that lies)."""
    try:
        filechecks.zip_scan(file, filechecks.zip_infos(file))
    except filechecks.FileProblem as problem:
        code = FailureCode.TOO_LARGE if problem.code == "zip_bomb" else FailureCode.CORRUPT
        raise ExtractionFailure(code, f"the {label} cannot be read safely ({problem})") from problem
    finally:
        file.seek(0)


def extract_docx(file: BinaryIO, *, limit: int = MAX_TEXT_CHARS, deadline: float | None = None) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_office_zip(file, "DOCX")
    try:
        document = docx.Document(file)
        headers: list[str] = []
        footers: list[str] = []
        seen = set()
        for section in document.sections:
            for parts, names in ((headers, ("first_page_header", "header", "even_page_header")),
                                 (footers, ("first_page_footer", "footer", "even_page_footer"))):
                for name in names:
                    part = getattr(section, name)
                    if part.is_linked_to_previous:  # it is the previous section's, already read
                        continue
                    if id(part.part) in seen:  # two sections may name the same header part
                        continue
                    seen.add(id(part.part))
                    _docx_blocks(part._element, parts)
        check_deadline(deadline)
        body: list[str] = []
        _docx_blocks(document.element.body, body)
        file.seek(0)
        page_count = _docx_page_count(file)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, AttributeError, OSError) as exc:
        raise ExtractionFailure(FailureCode.CORRUPT, f"the DOCX cannot be read ({type(exc).__name__})") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("lxml"):
            raise ExtractionFailure(FailureCode.CORRUPT, "the DOCX has malformed XML") from exc
        raise
    out = PageText(limit)
    out.add("\n".join(line for line in [*headers, *body, *footers] if line.strip()))
    return out.result(page_count, False)


def _docx_page_count(file: BinaryIO) -> int | None:
    """Pages as Word last counted them (docProps/app.xml), or None: only a layout engine knows."""
    with zipfile.ZipFile(file) as archive:
        try:
            info = archive.getinfo("docProps/app.xml")
        except KeyError:
            return None
        if info.file_size > 1 << 20:
            return None
        match = _PAGES.search(archive.read(info))
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def extract_xlsx(file: BinaryIO, *, limit: int = MAX_TEXT_CHARS, deadline: float | None = None) -> Extracted:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_office_zip(file, "XLSX")
    out = PageText(limit)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, SyntaxError, OSError) as exc:
        raise ExtractionFailure(FailureCode.CORRUPT, f"the XLSX cannot be read ({type(exc).__name__})") from exc
    try:
        sheets = workbook.worksheets
        for sheet in sheets:
            if out.full:
                break
            lines = [sheet.title]
            size = len(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                check_deadline(deadline)
                cells = [_cell(value) for value in row]
                while cells and not cells[-1].strip():
                    cells.pop()
                if cells:
                    line = "\t".join(cells)
                    lines.append(line)
                    size += len(line) + 1
                    if out.length + size > limit:  # do not read a huge sheet past the cap
                        break
            out.add("\n".join(lines))
        return out.result(len(sheets), False)
    except (KeyError, ValueError, TypeError, SyntaxError, zipfile.BadZipFile, OSError) as exc:
        raise ExtractionFailure(FailureCode.CORRUPT, f"the XLSX cannot be read ({type(exc).__name__})") from exc
    finally:
        workbook.close()


def extract_image(file: BinaryIO, *, limit: int = MAX_TEXT_CHARS, deadline: float | None = None) -> Extracted:
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    pixels = settings.QIYUE_MAX_IMAGE_PIXELS
    try:
        image = Image.open(file)
        frames = getattr(image, "n_frames", 1)
        if frames > filechecks.MAX_IMAGE_FRAMES:
            raise ExtractionFailure(FailureCode.TOO_LARGE, f"the image has {frames} frames")
        out = PageText(limit)
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if out.full:
                break
            check_deadline(deadline)
            # Checked before the frame is decoded (the iterator only seeks to it).
            filechecks.check_pixels(frame.width, frame.height, pixels)
            picture = ImageOps.exif_transpose(frame) if number == 1 else frame.copy()
            dpi = frame.info.get("dpi")
            out.add(_ocr(picture, page=number if frames > 1 else 0,
                         dpi=round(dpi[0]) if dpi and 150 <= dpi[0] <= 1200 else None, deadline=deadline),
                    wrapped=True)
    except filechecks.FileProblem as exc:
        raise ExtractionFailure(FailureCode.TOO_LARGE, exc.detail) from exc
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at twice the limit
        raise ExtractionFailure(FailureCode.TOO_LARGE, f"the image has too many pixels ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ExtractionFailure(FailureCode.CORRUPT, f"the image cannot be read ({type(exc).__name__})") from exc
    return out.result(frames, True)


# Formats whose page_starts are pages a reader can turn to: a PDF's pages, a TIFF's frames. A DOCX
# has no layout to count (its text is one "page"), an XLSX's "pages" are its sheets, a JPEG or PNG
# is one picture: a page number for those would be made up.
PAGED_FILE_TYPES = frozenset({"pdf", "tiff"})

EXTRACTORS = {"pdf": extract_pdf, "docx": extract_docx, "xlsx": extract_xlsx,
              "jpeg": extract_image, "png": extract_image, "tiff": extract_image}


def extract(file_type: str, file: BinaryIO, *, limit: int = MAX_TEXT_CHARS,
            deadline: float | None = None) -> Extracted:
    """The text of `file`; raises ExtractionFailure, or TimeLimitExceeded once `deadline` (a
    time.monotonic() value) has passed."""
    try:
        extractor = EXTRACTORS[file_type]
    except KeyError:
        raise ExtractionFailure(FailureCode.UNSUPPORTED, f"no text extraction for {file_type!r} files") from None
    file.seek(0)
    return extractor(file, limit=limit, deadline=deadline)
