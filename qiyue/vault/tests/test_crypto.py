import base64
import io
import os

import pytest
from django.core.files.storage import default_storage

from qiyue.vault import blobs, crypto, keys


def roundtrip(data: bytes, pieces: int = 3) -> bytes:
    key = crypto.new_data_key()
    step = max(1, len(data) // pieces)
    cipher = b"".join(crypto.encrypt_chunks(key, [data[i:i + step] for i in range(0, len(data), step)] or [b""]))
    return b"".join(crypto.decrypt_stream(key, io.BytesIO(cipher))), cipher, key


@pytest.mark.parametrize("size", [0, 1, crypto.CHUNK - 1, crypto.CHUNK, crypto.CHUNK + 1, 3 * crypto.CHUNK + 5])
def test_roundtrip_sizes(size):
    data = os.urandom(size)
    plain, cipher, _key = roundtrip(data)
    assert plain == data
    assert len(cipher) == crypto.HEADER_LEN + size + crypto.TAG * (size // crypto.CHUNK + 1) - (
        crypto.TAG if size and size % crypto.CHUNK == 0 else 0)


def _decrypt(key, cipher):
    return b"".join(crypto.decrypt_stream(key, io.BytesIO(cipher)))


def test_flipped_bit_is_detected():
    _plain, cipher, key = roundtrip("合同正文".encode() * 1000)
    broken = bytearray(cipher)
    broken[crypto.HEADER_LEN + 10] ^= 1
    with pytest.raises(crypto.IntegrityError):
        _decrypt(key, bytes(broken))


def test_truncation_and_reordering_are_detected():
    data = os.urandom(2 * crypto.CHUNK + 100)
    _plain, cipher, key = roundtrip(data)
    block = crypto.CHUNK + crypto.TAG
    first, second = cipher[crypto.HEADER_LEN:crypto.HEADER_LEN + block], cipher[crypto.HEADER_LEN + block:
                                                                               crypto.HEADER_LEN + 2 * block]
    header = cipher[:crypto.HEADER_LEN]
    with pytest.raises(crypto.IntegrityError):  # the last chunk dropped
        _decrypt(key, cipher[:crypto.HEADER_LEN + 2 * block])
    with pytest.raises(crypto.IntegrityError):  # two chunks swapped
        _decrypt(key, header + second + first + cipher[crypto.HEADER_LEN + 2 * block:])


def test_wrong_key_is_detected():
    _plain, cipher, _key = roundtrip(b"secret")
    with pytest.raises(crypto.IntegrityError):
        _decrypt(crypto.new_data_key(), cipher)


def test_key_wrapping():
    master, data_key = os.urandom(32), crypto.new_data_key()
    wrapped = crypto.wrap_key(master, data_key)
    assert crypto.unwrap_key(master, wrapped) == data_key
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_key(os.urandom(32), wrapped)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "files")}}}
    keys.keyring.cache_clear()
    yield tmp_path
    keys.keyring.cache_clear()


def test_master_key_file_is_private_and_stable(data_dir, settings):
    settings.QIYUE_MASTER_KEY = ""
    kid, _key = keys.current_key()
    path = data_dir / "keys" / f"{kid}.key"
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    keys.keyring.cache_clear()
    assert keys.current_key()[0] == kid


def test_blob_storage_holds_no_plaintext_and_checks_the_hash(data_dir, settings):
    settings.QIYUE_MASTER_KEY = ""
    text = ("甲方：上海明德精密机械有限公司。乙方：杭州云栖数智科技有限公司。" * 200).encode()
    stored = blobs.blob_write([text[:1000], text[1000:]])
    raw = (data_dir / "files" / stored.name).read_bytes()
    assert "上海明德".encode() not in raw and b"QYE1" == raw[:4]
    with blobs.blob_read(name=stored.name, key_id=stored.key_id, wrapped_key=stored.wrapped_key,
                         sha256=stored.sha256) as plain:
        assert plain.read() == text
    with pytest.raises(crypto.IntegrityError):
        blobs.blob_read(name=stored.name, key_id=stored.key_id, wrapped_key=stored.wrapped_key, sha256="0" * 64)
    other = blobs.blob_write([b"another file"])
    # Swap the ciphertexts of two files: each key opens only its own blob.
    (data_dir / "files" / stored.name).write_bytes((data_dir / "files" / other.name).read_bytes())
    with pytest.raises(crypto.IntegrityError):
        blobs.blob_read(name=stored.name, key_id=stored.key_id, wrapped_key=stored.wrapped_key, sha256=stored.sha256)
    assert default_storage.exists(other.name)


def test_blob_names_lists_every_stored_blob_and_nothing_else(data_dir, settings):
    settings.QIYUE_MASTER_KEY = ""
    assert list(blobs.blob_names()) == []  # no blobs directory yet
    written = {blobs.blob_write([f"文件 {n}".encode()]).name for n in range(5)}
    default_storage.save("other/not-a-blob.txt", io.BytesIO(b"x"))
    assert set(blobs.blob_names()) == written and all(name.startswith("blobs/") for name in written)
    blobs.blob_delete(sorted(written)[0])
    assert set(blobs.blob_names()) == written - {sorted(written)[0]}


def test_the_keyring_follows_the_key_directory_without_being_cleared(data_dir, settings, monkeypatch):
    """Another process rotating (a new key file, `current` replaced) or retiring (a key file removed)
    is seen by the next call; while nothing changes, the key files are not read again."""
    settings.QIYUE_MASTER_KEY = ""
    settings.QIYUE_OLD_MASTER_KEYS = []
    first = keys.current_key()[0]
    keys.current_key()  # the key file the first call created is seen once
    loads = []
    load = keys._load
    monkeypatch.setattr(keys, "_load", lambda: loads.append(1) or load())
    for _ in range(3):
        assert keys.current_key()[0] == first
    assert loads == []
    # Another process's rotation, written as the command writes it.
    raw = os.urandom(32)
    second = keys.key_id(raw)
    (data_dir / "keys" / f"{second}.key").write_text(base64.b64encode(raw).decode())
    (data_dir / "keys" / "current.new").write_text(second)
    os.replace(data_dir / "keys" / "current.new", data_dir / "keys" / "current")
    assert keys.current_key() == (second, raw) and first in keys.keyring()[1]
    stored = blobs.blob_write([b"after the rotation"])
    assert stored.key_id == second
    # Another process's retirement of the first key.
    (data_dir / "keys" / f"{first}.key").unlink()
    with pytest.raises(keys.MasterKeyError, match=first):
        keys.get_key(first)
    assert len(loads) == 2
    # The settings are part of what the keyring was built from too.
    third = os.urandom(32)
    settings.QIYUE_MASTER_KEY = base64.b64encode(third).decode()
    assert keys.current_key() == (keys.key_id(third), third)
