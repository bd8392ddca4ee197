"""Previews a browser shows without running anything from the file.

A PDF is never sent to the browser for a preview: its pages are rendered to PNG on the server with
PDFium (pypdfium2), one image per page, so no PDF viewer, plugin or script of the file ever runs in
the browser. Rendering is bounded: about RENDER_WIDTH pixels wide, never over MAX_RENDER_PIXELS or
MAX_RENDER_SIDE, and at most MAX_PREVIEW_PAGES pages; a page showing an image over
QIYUE_MAX_IMAGE_PIXELS is not rendered (PDFium would decode it whole), nor is such a JPEG or PNG sent. PDFium is not thread-safe, so one document at
a time is open in this process (which also bounds the memory a burst of page requests takes).

The preview page records the access event; its images are fetched with a short-lived token signed
for that user and that version, so an image cannot be had without a recorded preview (and never
without the visibility check, which every request repeats).
"""

import io
import math
import threading
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core import signing

from . import filechecks
from .models import FileType

# File types shown in the browser as a preview (the API serves these inline too).
PREVIEW_TYPES = (FileType.PDF, FileType.PNG, FileType.JPEG)
# Word and Excel files are previewed as their text, which the worker extracted (never parsed in the
# web process); the file itself is never sent inline.
TEXT_PREVIEW_TYPES = (FileType.DOCX, FileType.XLSX)
WEB_PREVIEW_TYPES = PREVIEW_TYPES + TEXT_PREVIEW_TYPES
# A text preview shows at most this many blocks (paragraphs or table rows); the download has the rest.
MAX_TEXT_BLOCKS = 5000
# Sent with preview images and the API's inline file: shown by the browser, never run. It does not
# make a PDF safe: Chromium's and Firefox's own PDF viewers render a PDF served with it all the same,
# so the web preview never sends a PDF, only its pages rendered to PNG (below).
PREVIEW_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"

RENDER_WIDTH = 1200  # px: sharp on a laptop screen, ~100–300 KB of PNG for a page of text
MAX_RENDER_PIXELS = 1200 * 1200 * 4  # ~5.8 Mpx, ~23 MB of bitmap for the largest page
MAX_RENDER_SIDE = 8000  # px, for very long or very wide pages
MAX_PREVIEW_PAGES = 500
TOKEN_MAX_AGE = 4 * 3600  # s: images of a preview left open this long still load lazily
TOKEN_SALT = "qiyue.documents.preview"

_pdfium_lock = threading.Lock()


class PreviewUnavailable(Exception):
    """PDFium cannot open or render the file."""


@dataclass(frozen=True)
class PageSize:
    number: int
    width: int
    height: int


@dataclass(frozen=True)
class PdfLayout:
    page_count: int
    pages: list[PageSize]  # the first MAX_PREVIEW_PAGES pages, in rendered pixels

    @property
    def truncated(self) -> bool:
        return self.page_count > len(self.pages)


def render_scale(width_pt: float, height_pt: float) -> float:
    """Points to pixels: RENDER_WIDTH wide, unless that breaks the pixel or side cap."""
    width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
    return min(RENDER_WIDTH / width_pt,
               math.sqrt(MAX_RENDER_PIXELS / (width_pt * height_pt)),
               MAX_RENDER_SIDE / max(width_pt, height_pt))


def _pixels(width_pt: float, height_pt: float) -> tuple[int, int]:
    scale = render_scale(width_pt, height_pt)
    return max(1, math.ceil(width_pt * scale - 1e-6)), max(1, math.ceil(height_pt * scale - 1e-6))  # as PDFium does


def _open(file: BinaryIO):
    import pypdfium2 as pdfium

    file.seek(0)
    try:
        return pdfium.PdfDocument(file, password="", autoclose=False)
    except pdfium.PdfiumError as exc:
        raise PreviewUnavailable(str(exc)) from exc


def pdf_layout(file: BinaryIO) -> PdfLayout:
    """Page count and the rendered size of each previewed page (sizes are read, pages not loaded)."""
    import pypdfium2 as pdfium

    with _pdfium_lock:
        document = _open(file)
        try:
            count = len(document)
            pages = []
            for index in range(min(count, MAX_PREVIEW_PAGES)):
                width, height = _pixels(*document.get_page_size(index))
                pages.append(PageSize(index + 1, width, height))
        except pdfium.PdfiumError as exc:
            raise PreviewUnavailable(str(exc)) from exc
        finally:
            document.close()
    return PdfLayout(page_count=count, pages=pages)


def pdf_page_png(file: BinaryIO, number: int) -> bytes | None:
    """Page `number` (from 1) as PNG; None when the PDF has no such previewed page."""
    import pypdfium2 as pdfium

    if not 1 <= number <= MAX_PREVIEW_PAGES:
        return None
    with _pdfium_lock:
        document = _open(file)
        try:
            if number > len(document):
                return None
            page = document[number - 1]
            try:
                try:  # PDFium decodes each image on the page at its own size
                    filechecks.pdf_page_image_check(page, settings.QIYUE_MAX_IMAGE_PIXELS, number=number)
                except filechecks.FileProblem as problem:
                    raise PreviewUnavailable(str(problem)) from problem
                bitmap = page.render(scale=render_scale(*page.get_size()), may_draw_forms=True)
                image = bitmap.to_pil()
                out = io.BytesIO()
                image.save(out, "PNG", compress_level=6)
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise PreviewUnavailable(str(exc)) from exc
        finally:
            document.close()
    return out.getvalue()


def image_previewable(file: BinaryIO) -> bool:
    """Whether a stored JPEG or PNG is within the pixel limit, so that a browser may decode it (read
    from its header; files stored before the upload gate checked it are not shown)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                return image.width * image.height <= settings.QIYUE_MAX_IMAGE_PIXELS
    except (Image.DecompressionBombError, UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False
    finally:
        file.seek(0)


# --- Image tokens ------------------------------------------------------------------------------

def _subject(user, version) -> str:
    return f"{user.pk}:{version.pk}"


def image_token(*, user, version) -> str:
    """A token for the images of one preview: this user, this version, for TOKEN_MAX_AGE."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(_subject(user, version))


def image_token_valid(token: str, *, user, version) -> bool:
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return False
    return value == _subject(user, version)


@dataclass(frozen=True)
class TextPage:
    number: int
    title: str  # an XLSX sheet's name; empty for a Word document
    blocks: list  # ("p", text) or ("table", [[cell, …], …])


def text_pages(text: str, page_starts: list[int], *, sheets: bool) -> tuple[list[TextPage], bool]:
    """The extracted text as pages of paragraphs and tables (consecutive lines with tabs: a Word table's
    rows or a sheet's), and whether MAX_TEXT_BLOCKS cut it short. In a workbook each page is a sheet
    whose first line is its name."""
    starts = [s for s in (page_starts or [0]) if 0 <= s <= len(text)] or [0]
    bounds = list(zip(starts, [*starts[1:], len(text)], strict=True))
    pages, used, cut = [], 0, False
    for number, (start, end) in enumerate(bounds, start=1):
        lines = text[start:end].split("\n")
        title = lines.pop(0).strip() if sheets and lines else ""
        blocks: list = []
        for line in lines:
            if not line.strip():
                continue
            if used >= MAX_TEXT_BLOCKS:
                cut = True
                break
            used += 1
            if "\t" in line or sheets:
                row = line.split("\t")
                if blocks and blocks[-1][0] == "table":
                    blocks[-1][1].append(row)
                else:
                    blocks.append(("table", [row]))
            else:
                blocks.append(("p", line))
        for block in blocks:  # every row of a table as wide as its widest
            if block[0] == "table":
                width = max(len(row) for row in block[1])
                for row in block[1]:
                    row.extend([""] * (width - len(row)))
        pages.append(TextPage(number, title, blocks))
        if cut:
            break
    return pages, cut
