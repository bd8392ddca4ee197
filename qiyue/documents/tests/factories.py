"""Real files for the documents tests, made in memory with the libraries that write them, plus a
fixture that gives each test its own storage directory and master key."""

import contextlib
import io
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qiyue.documents import keys

CHINESE = "甲方：上海明德精密机械有限公司。乙方：杭州云栖数智科技有限公司。违约金为合同总额的百分之五。"


@pytest.fixture(name="storage")
def storage_fixture(settings, tmp_path, monkeypatch) -> Path:
    """A fresh data directory (files and keys) per test; returns the storage root."""
    monkeypatch.delenv("QIYUE_MASTER_KEY", raising=False)
    monkeypatch.delenv("QIYUE_OLD_MASTER_KEYS", raising=False)
    settings.DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "files")}}}
    keys.keyring.cache_clear()
    yield tmp_path / "files"
    keys.keyring.cache_clear()


@pytest.fixture(name="upload_tmp")
def upload_tmp_fixture(settings, storage, tmp_path, monkeypatch) -> Path:
    """FILE_UPLOAD_TEMP_DIR and the system temp dir, both inside the test's data directory;
    returns FILE_UPLOAD_TEMP_DIR (the system temp dir is its sibling `system-tmp`)."""
    spool = tmp_path / "tmp"
    spool.mkdir(mode=0o700)
    system = tmp_path / "system-tmp"
    system.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    return spool


def stored_blobs(root: Path) -> list[Path]:
    return [p for p in (root / "blobs").rglob("*") if p.is_file()] if (root / "blobs").exists() else []


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


@contextlib.contextmanager
def running_waitress(app, threads: int = 2):
    """A real waitress server on a free port, in a thread; yields the port. The loop runs a poll at a
    time until told to stop and the connections are gone, so the listening socket is closed only
    after the loop has let go of it (closing it under a running select() fails that thread with
    EBADF)."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="qiyue-test")
    stop = threading.Event()

    def serve():
        # After stop, run on until the clients' connections are closed (they release their request
        # and response buffers then), for at most a second; what is left is closed below.
        deadline = None
        while True:
            if stop.is_set():
                deadline = deadline or time.monotonic() + 1
                if len(server._map) <= 1 or time.monotonic() > deadline:  # the listening socket alone
                    return
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        stop.set()
        thread.join(5)
        server.task_dispatcher.shutdown()
        for channel in list(server._map.values()):
            if channel is not server:
                channel.handle_close()
        server.close()
