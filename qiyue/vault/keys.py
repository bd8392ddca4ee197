"""Master keys: which one wraps new data keys, and every one that may still unwrap old ones.

A master key is 32 random bytes, named by its id (the first 16 hex digits of its SHA-256). Sources:
- the settings QIYUE_MASTER_KEY: base64 of the current key (then kept out of the data directory
  entirely) and QIYUE_OLD_MASTER_KEYS: base64 keys that may still be in use during a rotation;
- otherwise DATA_DIR/keys/<id>.key files (mode 0600), with DATA_DIR/keys/current naming the
  current one. The first start creates one.

Every process (server threads, workers, commands) sees a rotation or a retirement by another process
at once: the keyring is cached together with a fingerprint of the key directory (each entry's name,
inode, size and modification time, one scandir and a few stats per call) and of the key settings,
and is read again whenever the fingerprint changes. `qiyue keys rotate` writes a new key file and
replaces `current`; `qiyue keys retire` removes a file: both change the fingerprint, so the next
upload wraps under the new current key and the next download finds the key it needs.
"""

import base64
import hashlib
import os
import threading
from pathlib import Path

from django.conf import settings


class MasterKeyError(Exception):
    pass


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def _key_dir() -> Path:
    return Path(settings.DATA_DIR) / "keys"


def _write_private(path: Path, data: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)
    os.replace(tmp, path)


def current_from_settings() -> bool:
    """Whether the current master key is the setting QIYUE_MASTER_KEY (not a key file)."""
    return bool(settings.QIYUE_MASTER_KEY.strip())


def key_file(kid: str) -> Path:
    """Where the key file of master key `kid` is (or would be)."""
    return _key_dir() / f"{kid}.key"


def _from_settings() -> tuple[str | None, dict[str, bytes]]:
    current = settings.QIYUE_MASTER_KEY.strip()
    keys: dict[str, bytes] = {}
    for item in [current, *settings.QIYUE_OLD_MASTER_KEYS]:
        item = item.strip()
        if item:
            raw = base64.b64decode(item)
            if len(raw) != 32:
                raise MasterKeyError("a master key must be 32 bytes (base64 of 32 random bytes)")
            keys[key_id(raw)] = raw
    return (key_id(base64.b64decode(current)) if current else None), keys


def _read_text(path: Path) -> str | None:
    """A key directory file's text, or None when it is gone (retired while the directory was read)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _from_files() -> tuple[str | None, dict[str, bytes]]:
    directory = _key_dir()
    # `current` first: a rotation writes the new key file before it names it there, so the key
    # named is always among the files listed after.
    current = _read_text(directory / "current")
    keys = {}
    if directory.exists():
        for path in directory.glob("*.key"):
            text = _read_text(path)
            if text is not None:
                raw = base64.b64decode(text)
                keys[key_id(raw)] = raw
    return current, keys


def _fingerprint() -> tuple:
    """What the keyring was built from: the key settings and the key directory's entries. Any
    rotation or retirement, by any process, changes it."""
    entries = []
    try:
        with os.scandir(_key_dir()) as listing:
            for entry in listing:
                try:
                    stat = entry.stat()  # of what a link points to (a mounted secret is often one)
                except FileNotFoundError:
                    continue
                entries.append((entry.name, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    except FileNotFoundError:
        pass
    return (str(settings.DATA_DIR), settings.QIYUE_MASTER_KEY, tuple(settings.QIYUE_OLD_MASTER_KEYS),
            tuple(sorted(entries)))


def create_key_file() -> str:
    """A new master key in the data directory, made current. Returns its id."""
    directory = _key_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = os.urandom(32)
    kid = key_id(raw)
    _write_private(key_file(kid), base64.b64encode(raw).decode())
    _write_private(directory / "current", kid)
    return kid


_cached: tuple[tuple, tuple[str, dict[str, bytes]]] | None = None
_lock = threading.Lock()


def keyring() -> tuple[str, dict[str, bytes]]:
    """(current key id, {key id: key}) as of now — from the settings when set, else the data
    directory; read again whenever either has changed since the last call (see the module doc)."""
    global _cached
    fingerprint = _fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    with _lock:
        result = _load()
        # Cached under the fingerprint taken before loading: whatever changed since is seen by the
        # next call (a key the first start created among it, read once more then).
        _cached = (fingerprint, result)
    return result


def _cache_clear() -> None:
    global _cached
    _cached = None


keyring.cache_clear = _cache_clear  # forget the keyring (tests that change the settings under it)


def _load() -> tuple[str, dict[str, bytes]]:
    current, keys = _from_settings()
    if current is None:
        file_current, file_keys = _from_files()
        keys = {**file_keys, **keys}
        current = file_current
        if current is None:
            current = create_key_file()
            _c, keys = _from_files()
    else:
        keys = {**_from_files()[1], **keys}
    if current not in keys:
        raise MasterKeyError(f"the current master key {current} is not available")
    return current, keys


def current_key() -> tuple[str, bytes]:
    kid, keys = keyring()
    return kid, keys[kid]


def get_key(kid: str) -> bytes:
    keys = keyring()[1]
    if kid not in keys:
        raise MasterKeyError(f"master key {kid} is not available (QIYUE_MASTER_KEY / QIYUE_OLD_MASTER_KEYS / keys dir)")
    return keys[kid]
