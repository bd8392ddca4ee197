"""Encrypted blobs in Django's storage (local by default, S3-compatible by setting).

`blob_write` encrypts a plaintext stream under a fresh data key and stores only ciphertext, named
by a generated id. `blob_read` returns the plaintext only after every GCM tag and the SHA-256 of
the whole file have been checked, so a caller never sees wrong bytes.
"""

import hashlib
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage

from . import crypto, keys

SPOOL_BYTES = 8 << 20  # plaintext/ciphertext up to 8 MiB stays in memory, larger goes to a temp file


@dataclass(frozen=True)
class StoredBlob:
    name: str
    size: int
    sha256: str
    key_id: str
    wrapped_key: bytes


def new_blob_name() -> str:
    token = uuid.uuid4().hex
    return f"blobs/{token[:2]}/{token[2:4]}/{token}"


def blob_write(chunks: Iterable[bytes]) -> StoredBlob:
    """Encrypt and store; the plaintext is never written anywhere."""
    data_key = crypto.new_data_key()
    kid, master = keys.current_key()
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
    return StoredBlob(name=name, size=size, sha256=digest.hexdigest(), key_id=kid,
                      wrapped_key=crypto.wrap_key(master, data_key))


def blob_read(*, name: str, key_id: str, wrapped_key: bytes, sha256: str):
    """The verified plaintext as a seekable temporary file (the caller closes it).

    Raises crypto.IntegrityError when a tag, the layout or the hash does not match.
    """
    data_key = crypto.unwrap_key(keys.get_key(key_id), bytes(wrapped_key))
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    digest = hashlib.sha256()
    try:
        with default_storage.open(name, "rb") as source:
            for chunk in crypto.decrypt_stream(data_key, source):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise crypto.IntegrityError("SHA-256 of the decrypted file does not match the recorded hash")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def blob_delete(name: str) -> None:
    default_storage.delete(name)
