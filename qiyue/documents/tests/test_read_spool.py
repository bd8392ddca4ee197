"""No plaintext of a stored file touches the disk on the read side either, nor in the web server.

`blobs.blob_read` keeps a small plaintext in memory and decrypts a larger one into an anonymous
encrypted spool file, which downloads, previews and text extraction read as a file. waitress's own
buffers (request bodies, pending responses) spill into encrypted spool files too. While a download or
an upload is in flight, every file under the test's data and temp directories, and every file the
process holds open there or in the system temp dirs (anonymous ones included, through /proc), is
read back and must not contain the marker that runs all through the file.
"""

import io
import socket
import time

import pytest
from django.core.management import call_command
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import previews, services
from qiyue.documents.models import DocumentVersion
from qiyue.documents.textformats import extract
from qiyue.vault import blobs, uploadhandlers
from qiyue.vault.spool import EncryptedSpoolFile
from qiyue.vault.tests.test_read_spool import (
    blob_of,
    needs_proc,
    open_spools,
    plaintext_seen_fixture,  # noqa: F401  (the `plaintext_seen` fixture)
)
from qiyue.vault.tests.test_upload_handlers import MB, open_files_under

from . import factories as f
from . import files
from .factories import running_waitress, storage_fixture, upload_tmp_fixture  # noqa: F401  (the two fixtures)
from .test_upload_handlers import marked_docx, marked_pdf


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="保密合同")


def store(user, contract, name: str, data: bytes):
    [document] = services.document_upload(actor=user, contract=contract, files=[f.upload(name, data)])
    return document.current_version


def read_args(version) -> dict:
    return {"name": version.blob_name, "key_id": version.key_id, "wrapped_key": version.wrapped_key,
            "sha256": version.sha256}


# --- Downloads, previews and extraction through Django ------------------------------------------

@pytest.fixture
def big_docx(users, contract, storage, upload_tmp):
    """A real DOCX of 9 MB (past the old 8 MiB in-memory threshold) with the marker all through it."""
    data = marked_docx(9 * MB)
    return store(users["sales"], contract, "大合同.docx", data), data


@needs_proc
@pytest.mark.django_db
@pytest.mark.parametrize("via", ["ui", "api"])
def test_a_large_download_is_byte_exact_and_only_ciphertext_is_on_disk(client, users, big_docx, upload_tmp,
                                                                        plaintext_seen, via):
    version, data = big_docx
    client.force_login(users["sales"])
    url = (reverse("documents:download", args=[version.pk]) if via == "ui"
           else f"/api/v1/document-versions/{version.pk}/download/")
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Length"] == str(len(data))
    stream = iter(response.streaming_content)
    received = [next(stream)]
    # In flight: the verified plaintext is nowhere on the disk; it is in one anonymous encrypted spool.
    assert plaintext_seen() == []
    assert len(open_spools(upload_tmp)) == 1
    received.extend(stream)  # the test client closes the response at the end of the stream
    assert b"".join(received) == data
    assert open_spools(upload_tmp) == []


@needs_proc
@pytest.mark.django_db
def test_a_closed_download_removes_its_spool(client, users, big_docx, upload_tmp):
    version, _data = big_docx
    client.force_login(users["sales"])
    response = client.get(reverse("documents:download", args=[version.pk]))
    next(iter(response.streaming_content))
    assert len(open_spools(upload_tmp)) == 1
    response.close()  # what the server does when the client goes away mid-download
    assert open_spools(upload_tmp) == []


@needs_proc
@pytest.mark.django_db
def test_a_tampered_large_file_gives_the_integrity_error_and_no_bytes(client, users, big_docx, storage,
                                                                       upload_tmp):
    version, _data = big_docx
    blob = storage / version.blob_name
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    blob.write_bytes(bytes(raw))
    client.force_login(users["sales"])
    response = client.get(reverse("documents:download", args=[version.pk]))
    assert response.status_code == 409
    assert 'data-error-code="integrity_failed"' in response.content.decode()
    assert "Content-Disposition" not in response
    assert AuditEvent.objects.filter(action="document.integrity_failed").count() == 1
    assert open_spools(upload_tmp) == []


@needs_proc
@pytest.mark.django_db
def test_previews_render_from_the_spool(client, users, contract, upload_tmp, plaintext_seen, monkeypatch):
    """PDFium reads the spool through its file callbacks (no path, no bytes copy); the page images
    and an image preview stream from it too."""
    monkeypatch.setattr(blobs, "MEMORY_BYTES", 0)  # every plaintext through the spool
    data = marked_pdf(2 * MB)
    last = previews.pdf_layout(io.BytesIO(data)).page_count
    pdf = store(users["sales"], contract, "合同.pdf", data)
    png = store(users["sales"], contract, "扫描件.png", f.make_image("PNG"))
    opened = []
    real_open = previews._open
    monkeypatch.setattr(previews, "_open", lambda file: opened.append(type(file)) or real_open(file))
    client.force_login(users["sales"])
    page = client.get(reverse("documents:preview", args=[pdf.pk]))
    assert page.status_code == 200
    token = previews.image_token(user=users["sales"], version=pdf)
    image = client.get(reverse("documents:preview_page", args=[pdf.pk, last]), {"t": token})
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert opened == [EncryptedSpoolFile, EncryptedSpoolFile]
    token = previews.image_token(user=users["sales"], version=png)
    shown = client.get(reverse("documents:preview_image", args=[png.pk]), {"t": token})
    assert b"".join(shown.streaming_content) == f.make_image("PNG")
    assert open_spools(upload_tmp) == [] and plaintext_seen() == []


@needs_proc
@pytest.mark.parametrize(("kind", "make"), [
    ("pdf", files.text_pdf),
    ("pdf", lambda: files.scanned_pdf([["合同金额人民币", "Contract"]])),  # pypdf, then pypdfium2 and OCR
    ("docx", files.docx_file),
    ("xlsx", files.xlsx_file),
    ("tiff", lambda: files.tiff_scan([["合同金额人民币", "Invoice"], ["甲方与乙方签订", "Payment"]])),
])
def test_text_extraction_reads_the_spool_like_a_file(storage, upload_tmp, monkeypatch, kind, make):
    monkeypatch.setattr(blobs, "MEMORY_BYTES", 0)
    data = make()
    with blobs.blob_read(**blob_of(data)) as plain:
        assert isinstance(plain, EncryptedSpoolFile)
        assert extract(kind, plain) == extract(kind, io.BytesIO(data))
    assert open_spools(upload_tmp) == []


# --- waitress: a real server on a free port -------------------------------------------------------

@pytest.fixture
def encrypted_waitress(upload_tmp, monkeypatch):
    """waitress with encrypt_waitress_buffers() applied for this test only."""
    from waitress import buffers

    monkeypatch.setattr(buffers.TempfileBasedBuffer, "newfile", buffers.TempfileBasedBuffer.newfile)
    uploadhandlers.encrypt_waitress_buffers()


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=user).key


def slow_client(port: int, request: bytes) -> socket.socket:
    """A client that sends its request and then reads nothing until told to: the server can only
    hand the socket what the (small) buffers take, the rest of the response waits in the server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request)
    return sock


def read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, the headers and the first bytes of the body."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        piece = sock.recv(65536)
        assert piece, buffer[:300]
        buffer += piece
    head, body = buffer.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    while piece := sock.recv(1 << 20):
        chunks.append(piece)
    sock.close()
    return b"".join(chunks)


def without_file_wrapper(app):
    """The app as a server without wsgi.file_wrapper sees it: the response is iterated and every
    piece goes through waitress's output buffers."""
    def wrapped(environ, start_response):
        environ.pop("wsgi.file_wrapper", None)
        return app(environ, start_response)
    return wrapped


@needs_proc
@pytest.mark.django_db(transaction=True)
def test_waitress_upload_of_a_large_file_keeps_only_ciphertext_on_disk(users, contract, upload_tmp,
                                                                       plaintext_seen, encrypted_waitress,
                                                                       monkeypatch):
    """The body waits in waitress's buffer and then in Django's upload spool: while the upload is
    checked both are open, and neither holds plaintext."""
    from config.wsgi import application

    data = marked_docx(6 * MB)
    seen = []
    inspect = services.inspect_upload

    def watched_inspect(*args, **kwargs):
        seen.append((len(open_spools(upload_tmp)), plaintext_seen()))
        return inspect(*args, **kwargs)

    monkeypatch.setattr(services, "inspect_upload", watched_inspect)
    body = encode_multipart(BOUNDARY, {"contract": str(contract.pk), "kind": "signed",
                                       "file": f.upload("大合同.docx", data)})
    request = (f"POST /api/v1/documents/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               f"Authorization: Token {token_for(users['sales'])}\r\nContent-Type: {MULTIPART_CONTENT}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with running_waitress(application) as port:
        sock = slow_client(port, request)
        status, _headers, _first = read_head(sock)
        read_to_end(sock)
    assert status == 201
    # waitress's body buffer and Django's upload spool were both open, both ciphertext
    assert seen == [(2, [])]
    version = DocumentVersion.objects.get(filename="大合同.docx")
    with blobs.blob_read(**read_args(version)) as plain:
        assert plain.read() == data
    wait_for(lambda: open_spools(upload_tmp) == [])


@needs_proc
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("file_wrapper", [True, False], ids=["file_wrapper", "iterated"])
def test_waitress_download_of_a_large_file_keeps_only_ciphertext_on_disk(users, contract, upload_tmp,
                                                                         plaintext_seen, encrypted_waitress,
                                                                         monkeypatch, file_wrapper):
    """A 12 MB download to a client that does not read. With wsgi.file_wrapper (what waitress gives
    Django's FileResponse) waitress reads the response's spool as it sends; without it, the pending
    output (most of the 12 MB, well past the 1 MB outbuf_overflow) waits in waitress's buffers."""
    from config.wsgi import application

    data = marked_docx(12 * MB)
    version = store(users["sales"], contract, "大合同.docx", data)
    opened = []
    blob_read = blobs.blob_read
    monkeypatch.setattr(blobs, "blob_read", lambda **kwargs: opened.append(blob_read(**kwargs)) or opened[-1])
    request = (f"GET /api/v1/document-versions/{version.pk}/download/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Connection: close\r\nAuthorization: Token {token_for(users['sales'])}\r\n\r\n").encode()
    with running_waitress(application if file_wrapper else without_file_wrapper(application)) as port:
        sock = slow_client(port, request)
        status, headers, first = read_head(sock)
        assert status == 200 and headers["content-length"] == str(len(data))
        [plain] = opened
        if not file_wrapper:
            # waitress has iterated the whole response and closed it (and so the download's spool):
            # what the client has not taken yet waits in waitress's output buffers.
            wait_for(lambda: plain.closed)
        assert plaintext_seen() == []
        in_flight = open_files_under(upload_tmp)
        body = first + read_to_end(sock)
    assert body == data
    # file_wrapper: the download's own spool (the whole file, as ciphertext), read as waitress sends;
    # iterated: waitress's spilled output buffer, megabytes of ciphertext.
    [spool] = in_flight.values()
    assert len(spool) > (len(data) // 2 if file_wrapper else 4 * MB)
    assert isinstance(plain, EncryptedSpoolFile)
    wait_for(lambda: open_spools(upload_tmp) == [])  # closed when the response is done
    assert plain.closed


@needs_proc
@pytest.mark.django_db(transaction=True)
def test_without_the_patch_waitress_would_buffer_a_download_in_plaintext(users, contract, tmp_path,
                                                                         upload_tmp, plaintext_seen):
    """The control for the test above: unpatched waitress spills pending output into a plaintext
    temporary file (which is why `qiyue serve` calls encrypt_waitress_buffers())."""
    from waitress import buffers

    from config.wsgi import application

    assert buffers.TempfileBasedBuffer.newfile is not uploadhandlers._encrypted_newfile
    data = marked_docx(12 * MB)
    version = store(users["sales"], contract, "大合同.docx", data)
    request = (f"GET /api/v1/document-versions/{version.pk}/download/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Connection: close\r\nAuthorization: Token {token_for(users['sales'])}\r\n\r\n").encode()
    with running_waitress(without_file_wrapper(application)) as port:
        sock = slow_client(port, request)
        read_head(sock)
        seen: list[str] = []
        wait_for(lambda: bool(seen.extend(plaintext_seen()) or seen))
        read_to_end(sock)
    assert any(str(tmp_path / "system-tmp") in name for name in seen)


# --- The patch itself -----------------------------------------------------------------------------

def test_qiyue_serve_encrypts_waitress_buffers_before_serving(monkeypatch, upload_tmp):
    import waitress
    from waitress import buffers

    monkeypatch.setattr(buffers.TempfileBasedBuffer, "newfile", buffers.TempfileBasedBuffer.newfile)
    served = []
    monkeypatch.setattr(waitress, "serve", lambda app, **options: served.append(
        (buffers.TempfileBasedBuffer.newfile, options)))
    call_command("serve", "--port", "8123", stdout=io.StringIO())
    [(newfile, options)] = served
    assert newfile is uploadhandlers._encrypted_newfile and options["port"] == 8123
