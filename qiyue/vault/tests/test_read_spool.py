"""No plaintext of a stored file touches the disk on the read side: `blobs.blob_read` keeps a small
plaintext in memory and decrypts a larger one into an anonymous encrypted spool file; a tampered blob
gives an error and leaves nothing behind. And the patch that makes waitress's buffers encrypted spool
files refuses to start when waitress's internals change. (Downloads, previews and extraction reading
the spool, and waitress serving them, are tested in `qiyue.documents.tests.test_read_spool`.)
"""

import contextlib
import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from qiyue.vault import blobs, crypto, uploadhandlers
from qiyue.vault.spool import EncryptedSpoolFile

from .fixtures import storage_fixture, upload_tmp_fixture  # noqa: F401  (the two fixtures)
from .test_upload_handlers import MARKER, MB, _filler, open_files_under

needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="needs /proc to see anonymous temp files")
SYSTEM_TEMP_DIRS = [Path(p) for p in ("/tmp", "/var/tmp", "/dev/shm") if Path(p).is_dir()]  # nosec B108  # looked into, to prove nothing is left there


def open_file_names() -> set[str]:
    """"fd:target" of every file this process has open."""
    names = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            names.add(f"{fd}:{os.readlink(f'/proc/self/fd/{fd}')}")
    return names


@pytest.fixture(name="plaintext_seen")
def plaintext_seen_fixture(tmp_path):
    """A function that lists every file holding the marker: named files under the test's directory
    (data dir, spool dir, system temp dir of the test) and files this process has open there or in
    the system temp dirs, except those already open when the test started."""
    before = open_file_names()

    def seen() -> list[str]:
        found = []
        for path in tmp_path.rglob("*"):
            try:
                if path.is_file() and MARKER in path.read_bytes():
                    found.append(str(path))
            except FileNotFoundError:  # removed while we looked
                continue
        found += [name for name, content in open_files_under(tmp_path, *SYSTEM_TEMP_DIRS).items()
                  if name not in before and MARKER in content]
        return found

    return seen


def open_spools(upload_tmp: Path) -> list[str]:
    """The files this process has open in FILE_UPLOAD_TEMP_DIR (encrypted spools, mostly anonymous)."""
    return list(open_files_under(upload_tmp))


# --- blob_read ------------------------------------------------------------------------------------

def blob_of(data: bytes) -> dict:
    stored = blobs.blob_write([data[i:i + 300_000] for i in range(0, len(data), 300_000)] or [b""])
    return {"name": stored.name, "key_id": stored.key_id, "wrapped_key": stored.wrapped_key,
            "sha256": stored.sha256}


@needs_proc
@pytest.mark.parametrize("size", [0, 1, blobs.MEMORY_BYTES])
def test_a_small_plaintext_stays_in_memory(storage, upload_tmp, size):
    data = _filler(size, 1)
    with blobs.blob_read(**blob_of(data)) as plain:
        assert isinstance(plain, io.BytesIO) and plain.read() == data
        assert open_spools(upload_tmp) == []


@needs_proc
# 9 MB: past the old threshold of 8 MiB (a SpooledTemporaryFile then wrote plaintext to the system temp dir)
@pytest.mark.parametrize("size", [blobs.MEMORY_BYTES + 1, 9 * MB + 12_345])
def test_a_larger_plaintext_goes_to_an_anonymous_encrypted_spool(storage, upload_tmp, plaintext_seen, size):
    data = _filler(size, 2)
    plain = blobs.blob_read(**blob_of(data))
    assert isinstance(plain, EncryptedSpoolFile) and plain.tell() == 0 and plain.size == size
    assert list(upload_tmp.iterdir()) == []  # no name at all
    assert len(open_spools(upload_tmp)) == 1
    assert plaintext_seen() == []
    assert plain.read() == data
    plain.seek(size - 100)
    assert plain.read() == data[-100:]
    assert not hasattr(plain, "name")
    plain.close()
    assert open_spools(upload_tmp) == []


@needs_proc
@pytest.mark.parametrize("damage", ["first chunk", "last chunk", "truncated", "hash"])
def test_a_tampered_large_blob_fails_and_leaves_no_spool(storage, upload_tmp, damage):
    data = _filler(3 * crypto.CHUNK + 777, 3)
    args = blob_of(data)
    blob = storage / args["name"]
    raw = bytearray(blob.read_bytes())
    if damage == "first chunk":
        raw[crypto.HEADER_LEN + 10] ^= 1
    elif damage == "last chunk":
        raw[-5] ^= 1
    elif damage == "truncated":
        del raw[crypto.HEADER_LEN + 2 * (crypto.CHUNK + crypto.TAG):]
    else:
        args["sha256"] = hashlib.sha256(b"other bytes").hexdigest()
    blob.write_bytes(bytes(raw))
    with pytest.raises(crypto.IntegrityError):
        blobs.blob_read(**args)
    assert open_spools(upload_tmp) == [] and list(upload_tmp.iterdir()) == []


# --- The waitress patch itself ------------------------------------------------------------------

def test_the_patch_fails_loudly_when_waitress_internals_change(monkeypatch, upload_tmp):
    import tempfile

    from waitress import buffers, channel

    original = buffers.TempfileBasedBuffer.newfile
    monkeypatch.setattr(buffers.TempfileBasedBuffer, "newfile", original)
    with pytest.raises(ImproperlyConfigured, match="not into an EncryptedSpoolFile"):
        uploadhandlers.check_waitress_buffers()  # not patched: a plaintext temporary file
    uploadhandlers.encrypt_waitress_buffers()
    uploadhandlers.check_waitress_buffers()  # patched: passes

    with monkeypatch.context() as change:  # a release that spills without calling newfile()
        change.setattr(buffers.TempfileBasedBuffer, "__init__", lambda self, from_buffer=None: (
            buffers.FileBasedBuffer.__init__(self, tempfile.TemporaryFile("w+b"), from_buffer)))
        with pytest.raises(ImproperlyConfigured, match="not into an EncryptedSpoolFile"):
            uploadhandlers.encrypt_waitress_buffers()

    with monkeypatch.context() as change:  # a release whose channel buffers with another class
        change.setattr(channel, "OverflowableBuffer", type("OtherBuffer", (buffers.OverflowableBuffer,), {}))
        with pytest.raises(ImproperlyConfigured, match="waitress.channel no longer buffers"):
            uploadhandlers.encrypt_waitress_buffers()

    with monkeypatch.context() as change:  # a release that renamed the method
        change.delattr(buffers.TempfileBasedBuffer, "newfile")
        with pytest.raises(ImproperlyConfigured, match="newfile is missing"):
            uploadhandlers.encrypt_waitress_buffers()
    assert os.listdir(upload_tmp) == []
