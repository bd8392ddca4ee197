"""No plaintext of an upload touches the disk: the encrypting upload handler and its spool file,
and waitress's request buffers.

The files carry a distinctive marker all through their bytes; every file on the disk and every file
the process holds open is read back and must not contain it. (Uploads through the documents pages
and API are tested in `qiyue.documents.tests.test_upload_handlers`.)"""

import io
import os
import random
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, RequestFactory, encode_multipart

from qiyue.vault import crypto
from qiyue.vault.spool import CHUNK, SLOT, EncryptedSpoolFile
from qiyue.vault.uploadhandlers import EncryptedUploadedFile, EncryptedUploadHandler

from .fixtures import running_waitress, storage_fixture, upload_tmp_fixture  # noqa: F401  (the two fixtures)

MARKER = b"QIYUE-PLAINTEXT-MARKER-5c1e"
MB = 1024 * 1024


def _filler(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += MARKER + rng.randbytes(500)
    return bytes(out[:size])


def leftovers(upload_tmp: Path) -> list[Path]:
    return [p for p in [*upload_tmp.rglob("*"), *Path(tempfile.tempdir).rglob("*")] if p.is_file()]


# --- The handler under Django's multipart parser -------------------------------------------------

def parse(files: dict[str, bytes], *, cut: int | None = None):
    """A multipart POST of `files` whose FILES are parsed (when first read) by the upload handlers."""
    body = encode_multipart(BOUNDARY, {"kind": "scan", "files": [SimpleUploadedFile(n, d) for n, d in files.items()]})
    request = RequestFactory().generic("POST", "/upload/", data=body[:cut], content_type=MULTIPART_CONTENT)
    assert isinstance(request.upload_handlers[-1], EncryptedUploadHandler)
    return request


def test_without_the_size_limit_view_an_oversized_file_is_still_never_spooled(upload_tmp, settings):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    request = parse({"big.pdf": _filler(2 * MB, 2), "a.pdf": _filler(1000, 1)})
    assert [file.name for file in request.FILES.getlist("files")] == ["a.pdf"]
    request.close()
    assert leftovers(upload_tmp) == []


# --- The encrypted spool file -------------------------------------------------------------------

def spool_of(data: bytes, where: Path, rng: random.Random | None = None) -> EncryptedSpoolFile:
    rng = rng or random.Random(0)
    spool = EncryptedSpoolFile(dir=where)
    done = 0
    while done < len(data):
        step = rng.choice([1, 7, 4096, CHUNK - 1, CHUNK, CHUNK + 3, 3 * CHUNK])
        assert spool.write(data[done:done + step]) == len(data[done:done + step])
        done += step
    return spool


@pytest.mark.parametrize("seed", range(25))
def test_spool_reads_seeks_and_tells_like_bytesio(tmp_path, seed):
    rng = random.Random(seed)
    size = rng.choice([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17, rng.randrange(1, 6 * CHUNK)])
    data = rng.randbytes(size)
    spool, plain = spool_of(data, tmp_path, rng), io.BytesIO(data)
    plain.seek(0, io.SEEK_END)
    assert spool.size == size and spool.tell() == plain.tell() == size
    for _ in range(400):
        operation = rng.choice(["seek", "seek", "read", "read", "readinto", "readline"])
        if operation == "seek":
            whence = rng.choice([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END])
            low = 0 if whence == io.SEEK_SET else -size - 10
            offset = rng.choice([0, rng.randint(low, size + 10), rng.randint(-3, 3) + CHUNK * rng.randint(0, 6)])
            offset = max(offset, 0) if whence == io.SEEK_SET else offset
            assert spool.seek(offset, whence) == plain.seek(offset, whence)
        elif operation == "read":
            n = rng.choice([-1, 0, 1, rng.randint(1, 100), rng.randint(1, 3 * CHUNK)])
            assert spool.read(n) == plain.read(n)
        elif operation == "readinto":
            a = bytearray(rng.randint(0, 2 * CHUNK))
            b = bytearray(len(a))
            assert spool.readinto(a) == plain.readinto(b) and a == b
        else:
            assert spool.readline() == plain.readline()
        assert spool.tell() == plain.tell()
    spool.seek(0)
    assert spool.read() == data
    spool.close()


def test_only_ciphertext_is_on_disk_and_it_goes_on_close(tmp_path):
    data = _filler(5 * CHUNK + 123, 9)
    spool = spool_of(data, tmp_path)
    [raw] = list(tmp_path.iterdir())
    assert raw.name.startswith("qiyue-spool-") and raw.stat().st_mode & 0o777 == 0o600
    on_disk = raw.read_bytes()
    assert len(on_disk) == 5 * SLOT and MARKER not in on_disk  # the last 123 bytes are only in memory
    assert all(data[i:i + 32] not in on_disk for i in range(0, len(data) - 32, 4099))
    spool.seek(0)
    assert spool.read() == data
    spool.close()
    spool.close()
    assert list(tmp_path.iterdir()) == [] and spool.closed
    with pytest.raises(ValueError):
        spool.read()


def test_an_anonymous_spool_has_no_name_at_all(tmp_path):
    data = _filler(3 * CHUNK, 1)
    spool = EncryptedSpoolFile(dir=tmp_path, named=False)
    spool.write(data)
    assert list(tmp_path.iterdir()) == []
    assert spool.seek(CHUNK) == CHUNK and spool.read(100) == data[CHUNK:CHUNK + 100]
    spool.close()


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap"])
def test_a_changed_spool_file_fails_instead_of_giving_other_bytes(tmp_path, damage):
    spool = spool_of(_filler(4 * CHUNK, 4), tmp_path)
    [raw] = list(tmp_path.iterdir())
    on_disk = bytearray(raw.read_bytes())
    if damage == "flip":
        on_disk[SLOT + 100] ^= 1
    elif damage == "truncate":
        del on_disk[3 * SLOT + 10:]
    else:
        on_disk[SLOT:2 * SLOT], on_disk[2 * SLOT:3 * SLOT] = on_disk[2 * SLOT:3 * SLOT], on_disk[SLOT:2 * SLOT]
    raw.write_bytes(bytes(on_disk))
    spool.seek(CHUNK + 10 if damage != "truncate" else 3 * CHUNK + 5)
    with pytest.raises(crypto.IntegrityError):
        spool.read(10)
    spool.close()


def test_spool_is_append_only_and_hands_out_no_descriptor(tmp_path):
    spool = spool_of(b"abcdef", tmp_path)
    spool.seek(2)
    with pytest.raises(io.UnsupportedOperation):
        spool.write(b"x")
    with pytest.raises(io.UnsupportedOperation):
        spool.fileno()
    with pytest.raises(io.UnsupportedOperation):
        spool.truncate(0)
    with pytest.raises(ValueError):
        spool.seek(-1)
    spool.seek(0, io.SEEK_END)
    spool.write(b"gh")
    spool.seek(0)
    assert spool.read() == b"abcdefgh"
    spool.close()


def test_reads_while_appending(tmp_path):
    """Appends may interleave with reads anywhere (seek to the end, write, seek back)."""
    rng = random.Random(5)
    data = rng.randbytes(4 * CHUNK + 999)
    spool, written = EncryptedSpoolFile(dir=tmp_path), 0
    while written < len(data):
        step = rng.randint(1, CHUNK)
        spool.seek(0, io.SEEK_END)
        spool.write(data[written:written + step])
        written = min(written + step, len(data))
        start = rng.randint(0, written)
        spool.seek(start)
        assert spool.read(rng.randint(0, 2 * CHUNK)) == data[start:start + spool.tell() - start]
    spool.close()


def test_the_uploaded_file_behaves_like_django_uploads(tmp_path):
    data = _filler(2 * CHUNK + 5, 6)
    upload = EncryptedUploadedFile(spool_of(data, tmp_path), "合同.pdf", "application/pdf", len(data), None)
    assert (upload.name, upload.content_type, upload.size, len(upload)) == ("合同.pdf", "application/pdf",
                                                                          len(data), len(data))
    assert b"".join(upload.chunks(chunk_size=1000)) == data and upload.multiple_chunks(chunk_size=1000)
    upload.read(10)
    assert upload.open() is upload and upload.tell() == 0
    assert not hasattr(upload, "temporary_file_path")
    assert upload.seekable() and upload.readable()
    upload.close()
    assert upload.closed and list(tmp_path.iterdir()) == []


# --- The web server's request buffers -----------------------------------------------------------

def open_files_under(*roots: Path) -> dict[str, bytes]:
    """The contents of every file this process has open under `roots`, named or deleted."""
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if any(target.startswith(str(root)) for root in roots):
                with open(f"/proc/self/fd/{fd}", "rb") as file:
                    found[f"{fd}:{target}"] = file.read()
        except OSError:
            continue
    return found


def post_through_waitress(body: bytes) -> tuple[bytes, dict[str, bytes]]:
    """POST `body` to a real waitress server; its app looks at every open temporary file before it
    reads the body (waitress has already received all of it by then)."""
    import http.client

    seen: dict[str, bytes] = {}

    def app(environ, start_response):
        seen.update(open_files_under(Path(tempfile.gettempdir()), Path(environ["QIYUE_SPOOL_DIR"])))
        received = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [received]

    from django.conf import settings

    def with_spool_dir(environ, start_response):
        environ["QIYUE_SPOOL_DIR"] = settings.FILE_UPLOAD_TEMP_DIR
        return app(environ, start_response)

    with running_waitress(with_spool_dir, threads=1) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/", body=body, headers={"Content-Type": "application/octet-stream"})
        echoed = connection.getresponse().read()
        connection.close()
    return echoed, seen


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see anonymous temp files")
def test_waitress_keeps_large_request_bodies_encrypted(upload_tmp, monkeypatch):
    from waitress import buffers

    from qiyue.vault.uploadhandlers import encrypt_waitress_buffers

    body = _filler(2 * MB, 8)  # waitress moves a body over 512 KB out of memory
    echoed, seen = post_through_waitress(body)
    assert echoed == body
    assert any(MARKER in content for content in seen.values())  # why the patch exists

    monkeypatch.setattr(buffers.TempfileBasedBuffer, "newfile", buffers.TempfileBasedBuffer.newfile)
    encrypt_waitress_buffers()
    echoed, seen = post_through_waitress(body)
    assert echoed == body
    assert any(str(upload_tmp) in name for name in seen)  # anonymous: no file name, only the directory
    assert not any(MARKER in content for content in seen.values())
    assert list(upload_tmp.iterdir()) == []
