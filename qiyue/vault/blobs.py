"""Encrypted blobs in Django's storage (local by default, S3-compatible by setting).

`blob_write` encrypts a plaintext stream under a fresh data key and stores only ciphertext, named
by a generated id. `blob_read` returns the plaintext only after every GCM tag and the SHA-256 of
the whole file have been checked, so a caller never sees wrong bytes.

Neither writes plaintext to the disk. `blob_write` spools only ciphertext. `blob_read` keeps a
plaintext of up to MEMORY_BYTES in memory; a larger one goes, as it is decrypted and checked, into an
anonymous `spool.EncryptedSpoolFile` in FILE_UPLOAD_TEMP_DIR (ciphertext under a key that exists only
in that object), which the caller reads, seeks and streams like any file: about 128 KiB of memory
per open file whatever its size, and nothing readable left behind when it is closed or the process dies.
"""

import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage

from . import crypto, keys
from .spool import EncryptedSpoolFile

SPOOL_BYTES = 8 << 20  # ciphertext being stored: up to 8 MiB in memory, larger in a temporary file
# A verified plaintext up to this size is returned in memory, a larger one in an encrypted spool file.
# One storage chunk (crypto.CHUNK): most office documents are never spooled, and a download held
# open by a slow client costs at most this much memory.
MEMORY_BYTES = crypto.CHUNK


@dataclass(frozen=True)
class StoredBlob:
    name: str
    size: int
    sha256: str
    key_id: str
    wrapped_key: bytes


BLOB_ROOT = "blobs"


def new_blob_name() -> str:
    token = uuid.uuid4().hex
    return f"{BLOB_ROOT}/{token[:2]}/{token[2:4]}/{token}"


def blob_names(storage: Storage = default_storage, directory: str = BLOB_ROOT) -> Iterator[str]:
    """The name of every blob in `storage` (what `blob_write` returned for it)."""
    try:
        dirs, files = storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{directory}/{name}"
    for sub in dirs:
        yield from blob_names(storage, f"{directory}/{sub}")


def blob_write(chunks: Iterable[bytes]) -> StoredBlob:
    """Encrypt and store; the plaintext is never written anywhere."""
    data_key = crypto.new_data_key()
    digest = hashlib.sha256()
    size = 0

    def plaintext():
        nonlocal size
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            yield chunk

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as cipher:
        for piece in crypto.encrypt_chunks(data_key, plaintext()):
            cipher.write(piece)
        cipher.seek(0)
        name = default_storage.save(new_blob_name(), File(cipher))
    # The current master key as of now, when the file is stored (a large upload takes a while, and a
    # rotation or retirement by another process may have happened meanwhile).
    kid, master = keys.current_key()
    return StoredBlob(name=name, size=size, sha256=digest.hexdigest(), key_id=kid,
                      wrapped_key=crypto.wrap_key(master, data_key))


def wrapped_under_current(*, key_id: str, wrapped_key: bytes) -> tuple[str, bytes]:
    """(current master key id, the data key wrapped under it): `wrapped_key` itself when `key_id` is
    still current, else the data key re-wrapped (in memory; the stored file does not change)."""
    kid, master = keys.current_key()
    if kid == key_id:
        return key_id, wrapped_key
    return kid, crypto.wrap_key(master, crypto.unwrap_key(keys.get_key(key_id), bytes(wrapped_key)))


def blob_read(*, name: str, key_id: str, wrapped_key: bytes, sha256: str) -> io.BytesIO | EncryptedSpoolFile:
    """The verified plaintext as a seekable, readable binary file at position 0 (the caller closes
    it): a BytesIO up to MEMORY_BYTES, else an EncryptedSpoolFile. It has no name and no fileno().

    Raises crypto.IntegrityError when a tag, the layout or the hash does not match; nothing is
    returned, and whatever was spooled is gone.
    """
    data_key = crypto.unwrap_key(keys.get_key(key_id), bytes(wrapped_key))
    out: io.BytesIO | EncryptedSpoolFile = io.BytesIO()
    digest = hashlib.sha256()
    try:
        with default_storage.open(name, "rb") as source:
            for chunk in crypto.decrypt_stream(data_key, source):
                digest.update(chunk)
                if isinstance(out, io.BytesIO) and out.tell() + len(chunk) > MEMORY_BYTES:
                    out = _to_spool(out)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise crypto.IntegrityError("SHA-256 of the decrypted file does not match the recorded hash")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _to_spool(held: io.BytesIO) -> EncryptedSpoolFile:
    """Move what `held` holds into a new anonymous encrypted spool file, and close `held`."""
    spool = EncryptedSpoolFile(dir=settings.FILE_UPLOAD_TEMP_DIR, named=False, prefix="qiyue-read-")
    try:
        with held.getbuffer() as view:
            spool.write(view)
    except BaseException:
        spool.close()
        raise
    finally:
        held.close()
    return spool


def blob_delete(name: str) -> None:
    default_storage.delete(name)
