"""OCR with the Tesseract command line (Chinese and English), no Python binding needed.

The image goes to `tesseract stdin stdout` as PNG over a pipe, so nothing is written to disk.
Tesseract's Chinese model often puts a space between two CJK characters; `join_cjk` removes those
spaces so a phrase search for 合同金额 finds "合 同 金 额".
"""

import io
import os
import re
import subprocess

from PIL import Image

LANGUAGES = "chi_sim+eng"
TIMEOUT_SECONDS = 120  # per page; a clear A4 page at 300 dpi takes 1–5 s on one core
# A page as rendered for OCR is never bigger than this; A4 at 300 dpi is 8.7 Mpx.
MAX_PIXELS = 40_000_000

# CJK ideographs and CJK/full-width punctuation (not the ideographic space U+3000).
_CJK = r"\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60\U00020000-\U0003134f"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")


class OcrError(Exception):
    """Tesseract could not read the image; `code` is ocr_timeout, ocr_failed or ocr_unavailable."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def join_cjk(text: str) -> str:
    """Remove the spaces Tesseract puts between two CJK characters."""
    return _CJK_GAP.sub("", text)


def prepare(image: Image.Image) -> Image.Image:
    """Greyscale on a white background (transparent pixels would turn black), within MAX_PIXELS."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, "white")
        flat.alpha_composite(rgba)
        image = flat
    if image.mode not in ("L", "1"):
        image = image.convert("L")
    pixels = image.width * image.height
    if pixels > MAX_PIXELS:
        factor = (MAX_PIXELS / pixels) ** 0.5
        image = image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))))
    return image


def ocr_image(image: Image.Image, *, dpi: int | None = None, timeout: float | None = None) -> str:
    """The text Tesseract reads in the image (CJK gaps removed); raises OcrError.

    Automatic page segmentation (--psm 3) now and then finds no text block at all in a sparse page
    (a line or two of Chinese); such a page is read again as one uniform block (--psm 6).
    """
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    png = io.BytesIO()
    options = {"dpi": (dpi, dpi)} if dpi else {}
    prepare(image).save(png, "PNG", compress_level=1, **options)
    text = _tesseract(png.getvalue(), "3", timeout)
    if not text.strip():
        text = _tesseract(png.getvalue(), "6", timeout)
    return join_cjk(text)


def _tesseract(png: bytes, psm: str, timeout: float) -> str:
    # One OpenMP thread per Tesseract: several threads are slower on a small machine (measured 2.5x
    # on 2 cores), and the worker pool, not Tesseract, is what should use the cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    command = ["tesseract", "stdin", "stdout", "-l", LANGUAGES, "--psm", psm]
    try:
        done = subprocess.run(command, input=png, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrError("ocr_timeout", f"OCR took longer than {timeout:g} s") from exc
    except FileNotFoundError as exc:
        raise OcrError("ocr_unavailable", "Tesseract is not installed (apt-get install tesseract-ocr "
                                          "tesseract-ocr-chi-sim)") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError("ocr_failed", f"Tesseract failed: {detail[-1] if detail else done.returncode}"[:300])
    return done.stdout.decode("utf-8", "replace")
