"""Master keys: which one wraps new data keys, and every one that may still unwrap old ones.

A master key is 32 random bytes, named by its id (the first 16 hex digits of its SHA-256). Sources:
- the settings QIYUE_MASTER_KEY: base64 of the current key (then kept out of the data directory
  entirely) and QIYUE_OLD_MASTER_KEYS: base64 keys that may still be in use during a rotation;
- otherwise DATA_DIR/keys/<id>.key files (mode 0600), with DATA_DIR/keys/current naming the
  current one. The first start creates one.
"""

import base64
import hashlib
import os
from functools import cache
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


def _from_files() -> tuple[str | None, dict[str, bytes]]:
    directory = _key_dir()
    keys = {}
    if directory.exists():
        for path in directory.glob("*.key"):
            raw = base64.b64decode(path.read_text().strip())
            keys[key_id(raw)] = raw
    current_file = directory / "current"
    current = current_file.read_text().strip() if current_file.exists() else None
    return current, keys


def create_key_file() -> str:
    """A new master key in the data directory, made current. Returns its id."""
    directory = _key_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = os.urandom(32)
    kid = key_id(raw)
    _write_private(key_file(kid), base64.b64encode(raw).decode())
    _write_private(directory / "current", kid)
    keyring.cache_clear()
    return kid


@cache
def keyring() -> tuple[str, dict[str, bytes]]:
    """(current key id, {key id: key}) — from the settings when set, else the data directory."""
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
