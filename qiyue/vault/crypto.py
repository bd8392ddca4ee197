"""Encryption at rest: AES-256-GCM in 1 MiB chunks under a per-file data key (R9.4).

Ciphertext layout:  b"QYE1" | 7-byte random nonce prefix | chunk₀ | chunk₁ | … | chunkₙ
Each chunk is AES-GCM(data key, nonce = prefix ‖ index (4 bytes) ‖ last-flag (1 byte)) of up to 1 MiB of
plaintext plus its 16-byte tag. The index and last flag in the nonce make reordered, dropped or
truncated chunks fail authentication, so a reader either gets the exact bytes or an error.
"""

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"QYE1"
PREFIX_LEN = 7
CHUNK = 1 << 20
TAG = 16
HEADER_LEN = len(MAGIC) + PREFIX_LEN


class IntegrityError(Exception):
    """The stored bytes are not what was written (tag, layout or hash mismatch)."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt_chunks(data_key: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Encrypt a stream of plaintext pieces (any sizes) into the layout above."""
    aead = AESGCM(data_key)
    prefix = os.urandom(PREFIX_LEN)
    yield MAGIC + prefix
    index = 0
    pending = b""
    for piece in chunks:
        pending += piece
        while len(pending) > CHUNK:  # keep at least one byte back: the last chunk must be flagged
            block, pending = pending[:CHUNK], pending[CHUNK:]
            yield aead.encrypt(_nonce(prefix, index, False), block, MAGIC)
            index += 1
    yield aead.encrypt(_nonce(prefix, index, True), pending, MAGIC)


def decrypt_stream(data_key: bytes, source: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; raise IntegrityError on any tampering or truncation."""
    aead = AESGCM(data_key)
    header = source.read(HEADER_LEN)
    if len(header) != HEADER_LEN or not header.startswith(MAGIC):
        raise IntegrityError("not a Qiyue encrypted blob")
    prefix = header[len(MAGIC):]
    index = 0
    current = source.read(CHUNK + TAG)
    while True:
        following = source.read(CHUNK + TAG)
        last = not following
        if len(current) < TAG:
            raise IntegrityError("truncated blob")
        try:
            yield aead.decrypt(_nonce(prefix, index, last), current, MAGIC)
        except InvalidTag as exc:
            raise IntegrityError(f"authentication failed at chunk {index}") from exc
        if last:
            return
        current, index = following, index + 1


def wrap_key(master_key: bytes, data_key: bytes) -> bytes:
    """The data key encrypted under a master key: nonce ‖ ciphertext+tag."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master_key).encrypt(nonce, data_key, b"qiyue-data-key")


def unwrap_key(master_key: bytes, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master_key).decrypt(wrapped[:12], wrapped[12:], b"qiyue-data-key")
    except InvalidTag as exc:
        raise IntegrityError("the data key does not open with this master key") from exc
