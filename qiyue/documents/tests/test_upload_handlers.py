"""No plaintext of an upload touches the disk: uploads through the documents pages and API, and the
size limit, on the vault's encrypting upload handler and spool file.

Real multipart requests (the Django test client and the API) carry real files marked with a
distinctive string; while the pipeline runs, every file under the data directory and the temp
directories is read back and must not contain it."""

import io
import random
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import services
from qiyue.documents.models import Document, DocumentVersion
from qiyue.documents.uploads import install_size_limit
from qiyue.vault import blobs
from qiyue.vault.tests import test_upload_handlers as vault
from qiyue.vault.tests.test_upload_handlers import MARKER, MB, _filler, leftovers
from qiyue.vault.uploadhandlers import EncryptedUploadedFile

from . import factories as f
from .factories import storage_fixture, upload_tmp_fixture  # noqa: F401  (the `storage` and `upload_tmp` fixtures)

HX = {"HTTP_HX_REQUEST": "true"}


# --- Real files that carry the marker all through their bytes ---------------------------------

def marked_pdf(size: int) -> bytes:
    """A real PDF of about `size` bytes whose uncompressed page streams repeat the marker (pypdf
    has to parse it from the spool)."""
    from reportlab.pdfgen import canvas

    rng = random.Random(size)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pageCompression=0, invariant=True)
    for _page in range(size // 16_000 + 1):  # about 16 KB of page stream per page
        pdf.setFont("Helvetica", 5)
        for line in range(110):
            pdf.drawString(20, 820 - 7 * line, f"{MARKER.decode()} {rng.randbytes(48).hex()}")
        pdf.showPage()
    pdf.save()
    data = out.getvalue()
    assert data.startswith(b"%PDF-") and data.count(MARKER) > 100
    return data


def marked_docx(size: int) -> bytes:
    """A real DOCX plus a stored (uncompressed) media part full of the marker: zipfile must seek
    to the central directory at the end of the file."""
    base = zipfile.ZipFile(io.BytesIO(f.make_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in base.infolist():
            archive.writestr(item, base.read(item))
        archive.writestr(zipfile.ZipInfo("word/media/scan.bin"), _filler(size, 2), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def marked_tiff(size: int) -> bytes:
    """An uncompressed greyscale TIFF whose pixels are the marker and noise."""
    from PIL import Image

    width = 1000
    height = size // width + 1
    out = io.BytesIO()
    Image.frombytes("L", (width, height), _filler(width * height, 3)).save(out, "TIFF")
    return out.getvalue()


def marked_files() -> dict[str, bytes]:
    """Three files of about 1.4, 1.6 and 1.6 MB: the first fits the 2.5 MB memory budget, the
    second would go past it."""
    return {"合同正文.pdf": marked_pdf(int(1.2 * MB)), "技术附件.docx": marked_docx(int(1.5 * MB)),
            "签字页.tiff": marked_tiff(int(1.5 * MB))}


# --- Watching the disk while the pipeline runs --------------------------------------------------

class DiskWatch:
    """Reads every file under the watched directories; remembers what it saw each time."""

    def __init__(self, *roots: Path):
        self.roots = roots
        self.snapshots: list[dict[str, bool]] = []

    def files(self) -> list[Path]:
        return sorted(p for root in self.roots for p in root.rglob("*") if p.is_file())

    def look(self) -> None:
        self.snapshots.append({str(p): MARKER in p.read_bytes() for p in self.files()})

    def plaintext_seen(self) -> list[str]:
        return sorted({name for snapshot in self.snapshots for name, marked in snapshot.items() if marked})

    def spools_seen(self) -> int:
        return max((sum("qiyue-upload-" in name for name in snapshot) for snapshot in self.snapshots), default=0)


@pytest.fixture
def watch(upload_tmp, tmp_path, monkeypatch) -> DiskWatch:
    """Look at the whole data directory (spool, system temp, stored blobs, keys) before every file
    is checked and after every blob is written, while the request still holds all its files."""
    watcher = DiskWatch(tmp_path)
    inspect, blob_write = services.inspect_upload, blobs.blob_write

    def watched_inspect(*args, **kwargs):
        watcher.look()
        return inspect(*args, **kwargs)

    def watched_blob_write(chunks):
        stored = blob_write(chunks)
        watcher.look()
        return stored

    monkeypatch.setattr(services, "inspect_upload", watched_inspect)
    monkeypatch.setattr(blobs, "blob_write", watched_blob_write)
    return watcher


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="保密合同")


# --- Through the UI and the API ---------------------------------------------------------------

@pytest.mark.django_db
def test_ui_upload_of_several_large_files_never_writes_plaintext(client, users, contract, watch, upload_tmp):
    files = marked_files()
    client.force_login(users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]), {
        "kind": "scan", "files": [SimpleUploadedFile(name, data) for name, data in files.items()]}, **HX)
    assert response.status_code == 200, response.content.decode()[:500]

    assert watch.plaintext_seen() == []
    # The first file fitted the memory budget; the two others went through the encrypted spool.
    received = response.wsgi_request.FILES.getlist("files")
    assert [type(file) for file in received] == [InMemoryUploadedFile, EncryptedUploadedFile, EncryptedUploadedFile]
    assert watch.spools_seen() == 2 and len(watch.snapshots) == 6
    assert leftovers(upload_tmp) == []  # removed when the request ended

    for name, data in files.items():
        version = DocumentVersion.objects.get(filename=name)
        download = client.get(reverse("documents:download", args=[version.pk]))
        assert download.status_code == 200 and b"".join(download.streaming_content) == data
    assert [v.file_type for v in DocumentVersion.objects.order_by("pk")] == ["pdf", "docx", "tiff"]


@pytest.mark.django_db
def test_api_upload_of_several_large_files_never_writes_plaintext(users, contract, watch, upload_tmp):
    files = marked_files()
    api = APIClient()
    api.force_authenticate(users["sales"])
    response = api.post("/api/v1/documents/", {
        "contract": contract.pk, "kind": "signed",
        "files": [SimpleUploadedFile(name, data) for name, data in files.items()]}, format="multipart")
    assert response.status_code == 201, response.json()
    assert watch.plaintext_seen() == []
    assert [type(file) for file in response.wsgi_request.FILES.getlist("files")] == [
        InMemoryUploadedFile, EncryptedUploadedFile, EncryptedUploadedFile]
    assert watch.spools_seen() == 2
    assert leftovers(upload_tmp) == []

    for document, (name, data) in zip(response.json(), files.items(), strict=True):
        current = document["current_version"]
        assert (current["filename"], current["size"]) == (name, len(data))
        download = api.get(current["download_url"])
        assert b"".join(download.streaming_content) == data


@pytest.mark.django_db
def test_new_version_of_a_large_file_goes_through_the_spool(client, users, contract, watch, upload_tmp):
    [document] = services.document_upload(actor=users["sales"], contract=contract,
                                          files=[f.upload("合同.pdf", f.make_pdf())])
    data = marked_pdf(3 * MB)
    client.force_login(users["sales"])
    response = client.post(reverse("documents:add_version", args=[document.pk]),
                           {"version": document.version, "file": SimpleUploadedFile("合同 v2.pdf", data)}, **HX)
    assert response.status_code == 200
    assert watch.plaintext_seen() == []
    assert isinstance(response.wsgi_request.FILES["file"], EncryptedUploadedFile) and watch.spools_seen() == 1
    assert leftovers(upload_tmp) == []
    version = DocumentVersion.objects.get(document=document, number=2)
    assert b"".join(client.get(reverse("documents:download", args=[version.pk])).streaming_content) == data


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(f.FORMATS))
def test_every_format_is_checked_and_stored_from_the_spool(users, contract, upload_tmp, settings, kind):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # everything through the encrypted spool
    name, make, content_type = f.FORMATS[kind]
    data = make()
    api = APIClient()
    api.force_authenticate(users["sales"])
    response = api.post("/api/v1/documents/", {"contract": contract.pk, "kind": "signed",
                                                "file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 201, response.json()
    assert isinstance(response.wsgi_request.FILES["file"], EncryptedUploadedFile)
    current = response.json()["current_version"]
    assert (current["file_type"], current["size"]) == (kind, len(data))
    assert b"".join(api.get(current["download_url"]).streaming_content) == data
    assert leftovers(upload_tmp) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "make", "code"), [
    ("bomb.docx", f.make_zip_bomb, "zip_bomb"),
    ("locked.pdf", f.make_encrypted_pdf, "pdf_encrypted"),
    ("cut.pdf", lambda: f.make_pdf()[:-200], "pdf_corrupt"),
])
def test_a_refused_spooled_upload_leaves_nothing(client, users, contract, storage, upload_tmp, settings,
                                                 name, make, code):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    client.force_login(users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]), {"kind": "scan", "files": [
        SimpleUploadedFile("好的.pdf", marked_pdf(MB // 2)), SimpleUploadedFile(name, make())]}, **HX)
    assert response.status_code == 400
    assert f'data-error-code="{code}"' in response.content.decode()
    assert all(isinstance(file, EncryptedUploadedFile) for file in response.wsgi_request.FILES.getlist("files"))
    assert not Document.objects.exists() and f.stored_blobs(storage) == []
    assert leftovers(upload_tmp) == []


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["ui", "api"])
def test_an_oversized_file_among_several_is_refused_and_nothing_is_stored(client, users, contract, storage,
                                                                          upload_tmp, settings, via):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    files = [SimpleUploadedFile("一.pdf", marked_pdf(600 * 1024)), SimpleUploadedFile("大.pdf", marked_pdf(3 * MB // 2)),
             SimpleUploadedFile("二.tiff", marked_tiff(400 * 1024))]
    if via == "ui":
        client.force_login(users["sales"])
        response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                               {"kind": "scan", "files": files}, **HX)
        assert response.status_code == 413 and 'data-error-code="file_too_large"' in response.content.decode()
    else:
        api = APIClient()
        api.force_authenticate(users["sales"])
        response = api.post("/api/v1/documents/", {"contract": contract.pk, "kind": "scan", "files": files},
                            format="multipart")
        assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert response.wsgi_request.oversize_uploads == ["files"]
    assert [file.name for file in response.wsgi_request.FILES.getlist("files")] == ["一.pdf", "二.tiff"]
    assert not Document.objects.exists() and f.stored_blobs(storage) == []
    assert leftovers(upload_tmp) == []


# --- The handler under Django's multipart parser, behind the size limit ----------------------------

def parse(files: dict[str, bytes], *, size_limit: bool = True, cut: int | None = None):
    request = vault.parse(files, cut=cut)
    if size_limit:
        install_size_limit(request)
    return request


def test_an_oversized_file_is_removed_from_the_disk_while_the_request_streams(upload_tmp, settings):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    request = parse({"a.pdf": _filler(300 * 1024, 1), "big.pdf": _filler(2 * MB, 2), "b.pdf": _filler(10, 3)})
    files = request.FILES.getlist("files")
    assert [file.name for file in files] == ["a.pdf", "b.pdf"] and request.oversize_uploads == ["files"]
    assert len(leftovers(upload_tmp)) == 2  # the big file's spool is already gone
    assert all(MARKER not in p.read_bytes() for p in leftovers(upload_tmp))
    assert [file.read() for file in files] == [_filler(300 * 1024, 1), _filler(10, 3)]
    request.close()
    assert leftovers(upload_tmp) == []


def test_a_request_that_breaks_off_leaves_nothing(upload_tmp, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    request = parse({"a.pdf": _filler(200 * 1024, 1), "b.pdf": _filler(400 * 1024, 2)}, cut=500 * 1024)
    assert [file.name for file in request.FILES.getlist("files")] == ["a.pdf"]
    assert len(leftovers(upload_tmp)) == 1  # b.pdf was never completed: its spool is gone
    request.close()
    assert leftovers(upload_tmp) == []


def test_small_files_share_one_memory_budget(upload_tmp, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100 * 1024
    request = parse({f"{n}.pdf": _filler(30 * 1024, n) for n in range(5)})
    files = request.FILES.getlist("files")
    # 30 + 30 + 30 KB fit in 100 KB; the fourth file would pass it and is spooled, as is the fifth.
    assert [type(file).__name__ for file in files] == ["InMemoryUploadedFile"] * 3 + ["EncryptedUploadedFile"] * 2
    assert [file.read() for file in files] == [_filler(30 * 1024, n) for n in range(5)]
    request.close()
    assert leftovers(upload_tmp) == []
