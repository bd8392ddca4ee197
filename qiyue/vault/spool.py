"""A temporary file that only ever holds ciphertext on disk, for plaintext too large to keep in memory.

`EncryptedSpoolFile` is a binary file object (read, seek, tell, append-only write) whose bytes on disk
are AES-256-GCM ciphertext under a random key that exists only in this object. When the object is
closed or garbage-collected, or the process dies, the key is gone and whatever is left on disk can
never be read again.

Layout on disk: the plaintext is cut into 64 KiB chunks; chunk i is stored at i × (64 KiB + 16) as
AES-GCM(key, nonce = i as 12 bytes) of the chunk plus its 16-byte tag. A nonce is never reused: every
file has its own key and every chunk index is written exactly once, because only full chunks are
written; the unfinished last chunk (under 64 KiB) stays in memory. Any change, swap or truncation of
the ciphertext fails authentication on read (`crypto.IntegrityError`), so a reader gets the bytes that
were written or an error, never other bytes.

Reads decrypt one chunk at a time and keep the last one decrypted, so the random access of zipfile
(central directory at the end) and pypdf (xref tables) costs at most one 64 KiB decryption per move.

A process killed outright (kill -9, out of memory, power loss) cannot remove its named spool files:
they stay on disk, unreadable forever since their keys died with the process. `spool_sweep` removes
them. A live spool holds an exclusive advisory lock (flock) on its file for as long as it is open; the
kernel drops the lock when the process dies, however it dies. So a file the sweep can lock belongs to
no live process (on this machine, or on any machine sharing the directory where the file system
supports flock), and the sweep removes it under that lock; it also leaves every file younger than a
minimum age alone, which covers the instant between a file's creation and its lock.
"""

import dataclasses
import datetime
import fcntl
import io
import os
import tempfile
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import IntegrityError

CHUNK = 64 * 1024
TAG = 16
SLOT = CHUNK + TAG
# Every spool file is named <PREFIX>...<SUFFIX> (the `prefix` argument must start with PREFIX).
PREFIX = "qiyue-"
SUFFIX = ".enc"


class EncryptedSpoolFile(io.RawIOBase):
    """Read, seek and tell like a BytesIO over the plaintext; `write` only appends at the end.

    `dir` is where the ciphertext file goes (None: the system temp dir). A `named` file has a
    directory entry while it is open (like Django's TemporaryUploadedFile) and is removed on
    close; otherwise it is an anonymous temporary file that never has a name to leave behind.
    There is no `fileno()` and no path: the only way to the bytes is through this object.
    """

    def __init__(self, *, dir: str | os.PathLike | None = None, named: bool = True, prefix: str = "qiyue-spool-"):
        super().__init__()
        # Set before anything can fail, so that close() (also run by __del__) always works.
        self._raw = None
        self._aead: AESGCM | None = None
        self._tail = bytearray()  # the plaintext after the last full chunk: memory only, < CHUNK bytes
        self._sealed = 0  # full chunks on disk
        self._pos = 0
        self._cached_index = -1
        self._cached = b""
        if not prefix.startswith(PREFIX):
            raise ValueError(f"a spool file's prefix starts with {PREFIX!r}, so that spool_sweep finds it")
        if named:
            self._raw = tempfile.NamedTemporaryFile(mode="w+b", dir=dir, prefix=prefix, suffix=SUFFIX, delete=True)
            # Held until close() or the process's death: tells spool_sweep this file is in use.
            fcntl.flock(self._raw.fileno(), fcntl.LOCK_EX)
        else:
            self._raw = tempfile.TemporaryFile(mode="w+b", dir=dir, prefix=prefix, suffix=SUFFIX)
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))

    # --- file protocol ---------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    @property
    def size(self) -> int:
        """The number of plaintext bytes written so far."""
        return self._sealed * CHUNK + len(self._tail)

    def tell(self) -> int:
        self._check_closed()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """As BytesIO.seek: a negative absolute position is an error, a relative one stops at 0,
        and a position past the end reads nothing."""
        self._check_closed()
        offset = offset.__index__()
        if whence == io.SEEK_SET:
            if offset < 0:
                raise ValueError(f"negative seek value {offset}")
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos = max(0, self._pos + offset)
        elif whence == io.SEEK_END:
            self._pos = max(0, self.size + offset)
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        return self._pos

    def readinto(self, buffer) -> int:
        """Fill `buffer` as far as the data goes (a short count only at the end of the file)."""
        self._check_closed()
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(0, self.size - self._pos))
        done = 0
        while done < wanted:
            index, offset = divmod(self._pos, CHUNK)
            chunk = self._tail if index == self._sealed else self._chunk(index)
            piece = min(wanted - done, len(chunk) - offset)
            view[done:done + piece] = chunk[offset:offset + piece]
            done += piece
            self._pos += piece
        return done

    def write(self, data) -> int:
        """Append at the end of the file (the position must be there, as after writing or
        seek(0, 2)); full chunks are encrypted to disk, the rest is kept in memory."""
        self._check_closed()
        if self._pos != self.size:
            raise io.UnsupportedOperation("an encrypted spool file is append-only")
        data = memoryview(data).cast("B")
        self._tail += data
        while len(self._tail) >= CHUNK:
            self._seal(bytes(self._tail[:CHUNK]))
            del self._tail[:CHUNK]
        self._pos = self.size
        return len(data)

    def truncate(self, size=None):
        raise io.UnsupportedOperation("an encrypted spool file cannot be truncated")

    def fileno(self):
        raise io.UnsupportedOperation("an encrypted spool file has no plaintext file descriptor")

    def close(self) -> None:
        """Remove the ciphertext file and forget the key. Safe to call more than once."""
        if self._raw is not None:
            try:
                self._raw.close()  # a NamedTemporaryFile deletes its file here
            except FileNotFoundError:
                pass
            self._raw = None
        self._aead = None
        self._tail = bytearray()
        self._cached, self._cached_index = b"", -1
        super().close()

    # --- chunks ----------------------------------------------------------------------------------

    def _check_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    @staticmethod
    def _nonce(index: int) -> bytes:
        return index.to_bytes(12, "big")

    def _seal(self, plain: bytes) -> None:
        self._raw.seek(self._sealed * SLOT)
        self._raw.write(self._aead.encrypt(self._nonce(self._sealed), plain, None))
        self._sealed += 1

    def _chunk(self, index: int) -> bytes:
        if index != self._cached_index:
            self._raw.seek(index * SLOT)
            sealed = self._raw.read(SLOT)
            if len(sealed) != SLOT:
                raise IntegrityError(f"encrypted spool file truncated at chunk {index}")
            try:
                self._cached = self._aead.decrypt(self._nonce(index), sealed, None)
            except InvalidTag as exc:
                raise IntegrityError(f"encrypted spool file altered at chunk {index}") from exc
            self._cached_index = index
        return self._cached


# --- the sweep of files left by dead processes ---------------------------------------------------------


@dataclasses.dataclass
class SpoolSweep:
    """What `spool_sweep` found: the stale files (removed unless it was a dry run) and their bytes,
    and the files old enough that it kept because a live process holds them."""

    stale: list[Path] = dataclasses.field(default_factory=list)
    stale_bytes: int = 0
    in_use: list[Path] = dataclasses.field(default_factory=list)
    removed: bool = True

    def __str__(self) -> str:
        verb = "removed" if self.removed else "found"
        return (f"{verb} {len(self.stale)} stale encrypted temporary file(s) ({self.stale_bytes} bytes), "
                f"kept {len(self.in_use)} in use")


def spool_sweep(*, directory: str | os.PathLike, older_than: datetime.timedelta, remove: bool = True) -> SpoolSweep:
    """Remove the spool files in `directory` (PREFIX…SUFFIX, regular files) last written more than
    `older_than` ago that no live process holds (see the module's docstring); with remove=False only
    list them. A file that cannot be locked, because another process holds it or the file system has
    no locks, is kept; a file that disappears meanwhile is skipped. Nothing else in the directory is
    touched."""
    result = SpoolSweep(removed=remove)
    cutoff = time.time() - older_than.total_seconds()
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except FileNotFoundError:
        return result
    for entry in entries:
        if not (entry.name.startswith(PREFIX) and entry.name.endswith(SUFFIX)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime > cutoff:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # gone meanwhile, or not ours to open
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held by a live spool (or no locks here: then never assume it is free)
                result.in_use.append(Path(entry.path))
                continue
            size = os.fstat(fd).st_size
            if remove:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue
            result.stale.append(Path(entry.path))
            result.stale_bytes += size
        finally:
            os.close(fd)
    return result
