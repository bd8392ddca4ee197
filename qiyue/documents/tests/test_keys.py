"""`qiyue keys`: rotation re-wraps data keys in committed batches, can be interrupted and resumed,
never touches the stored files, and old keys retire only when nothing uses them."""

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import services
from qiyue.documents.models import DocumentVersion
from qiyue.vault import blobs, keys

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("keys", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def uploaded(users, storage):
    contract = make_contract(users["sales"])
    files = {f"扫描{i}.png": f.make_image("PNG") + bytes([i]) for i in range(5)}
    services.document_upload(actor=users["sales"], contract=contract,
                             files=[f.upload(name, data) for name, data in files.items()])
    return files


def contents(user) -> dict[str, bytes]:
    out = {}
    for version in DocumentVersion.objects.select_related("document"):
        with services.version_open(actor=user, version=version) as plain:
            out[version.filename] = plain.read()
    return out


def test_rotate_interrupted_resumed_and_retire(users, storage, uploaded):
    old = keys.current_key()[0]
    blobs_before = {p: p.read_bytes() for p in f.stored_blobs(storage)}
    output = run("rotate", "--batch-size", "2", "--limit", "3")
    new = keys.current_key()[0]
    assert new != old and "3 versions re-wrapped" in output and "--resume" in output
    assert DocumentVersion.objects.filter(key_id=new).count() == 3
    assert DocumentVersion.objects.filter(key_id=old).count() == 2
    status = run("status")
    assert f"{old}         2 versions" in status and f"{new}         3 versions  current" in status
    assert contents(users["sales"]) == uploaded  # half-way through, every file still opens
    with pytest.raises(CommandError, match="still use"):
        run("retire", old)
    output = run("rotate", "--resume", "--batch-size", "2")
    assert keys.current_key()[0] == new and "2 versions re-wrapped" in output and "0 remaining" in output
    assert set(DocumentVersion.objects.values_list("key_id", flat=True)) == {new}
    # Only the wrapped data keys changed: the stored ciphertext is byte for byte the same.
    assert {p: p.read_bytes() for p in f.stored_blobs(storage)} == blobs_before
    with pytest.raises(CommandError, match="current"):
        run("retire", new)
    run("retire", old)
    assert not (storage.parent / "keys" / f"{old}.key").exists()
    keys.keyring.cache_clear()
    assert old not in keys.keyring()[1]
    assert contents(users["sales"]) == uploaded
    assert AuditEvent.objects.filter(action="keys.rotated").count() == 2
    assert AuditEvent.objects.filter(action="keys.retired").count() == 1


def test_rotate_onto_a_key_from_the_environment(users, storage, settings):
    first, second = os.urandom(32), os.urandom(32)
    settings.QIYUE_MASTER_KEY = base64.b64encode(first).decode()
    keys.keyring.cache_clear()
    contract = make_contract(users["sales"])
    data = f.make_docx()
    services.document_upload(actor=users["sales"], contract=contract, files=[f.upload("合同.docx", data)])
    settings.QIYUE_MASTER_KEY = base64.b64encode(second).decode()
    settings.QIYUE_OLD_MASTER_KEYS = [base64.b64encode(first).decode()]
    keys.keyring.cache_clear()
    output = run("rotate")
    assert "1 versions re-wrapped" in output and not (storage.parent / "keys").exists()
    assert DocumentVersion.objects.get().key_id == keys.key_id(second)
    settings.QIYUE_OLD_MASTER_KEYS = []
    keys.keyring.cache_clear()
    assert contents(users["sales"]) == {"合同.docx": data}


# --- Other processes see a rotation or a retirement at once ------------------------------------

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def other_process(storage, settings, tmp_path_factory):
    """Runs `manage.py keys …` in a separate process on the test's data directory (so on its key
    files) and database: this PostgreSQL test database, or on SQLite (whose test database lives in
    this process's memory) a migrated database file of its own."""
    env = {**os.environ, "QIYUE_DATA_DIR": str(storage.parent), "QIYUE_MASTER_KEY": "", "QIYUE_OLD_MASTER_KEYS": "",
           "QIYUE_AUDIT_KEY": settings.QIYUE_AUDIT_KEY, "QIYUE_DB_CONN_MAX_AGE": "0"}
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
        env["DATABASE_URL"] = f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('other') / 'other.sqlite3'}"

    def manage(*args) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    if connection.vendor != "postgresql":
        manage("migrate", "-v0")
    return manage


def upload(user, contract, name: str, data: bytes) -> DocumentVersion:
    document = services.document_upload(actor=user, contract=contract, files=[f.upload(name, data)])[0]
    return document.versions.get()


@pytest.mark.django_db(transaction=True)
def test_a_rotation_by_another_process_is_seen_without_a_restart(users, storage, other_process):
    """The defect: the server cached its keyring, so after `qiyue keys rotate` in another process
    every download of a re-wrapped version failed with key_unavailable until a restart."""
    contract = make_contract(users["sales"])
    old = keys.current_key()[0]  # this process has built (and cached) its keyring
    first = f.make_docx()
    upload(users["sales"], contract, "旧.docx", first)
    output = other_process("keys", "rotate")
    new = (storage.parent / "keys" / "current").read_text().strip()
    assert new != old and f"new master key {new}" in output
    # No cache_clear, no restart: this process sees the new key at once.
    assert keys.current_key()[0] == new and old in keys.keyring()[1]
    second = f.make_docx() + b"\0"
    version = upload(users["sales"], contract, "新.docx", second)
    assert version.key_id == new
    assert contents(users["sales"]) == {"旧.docx": first, "新.docx": second}
    if connection.vendor == "postgresql":  # the other process re-wrapped this database's version
        assert set(DocumentVersion.objects.values_list("key_id", flat=True)) == {new}
    assert not AuditEvent.objects.filter(action__in=["document.integrity_failed", "document.read_failed"]).exists()


@pytest.mark.django_db(transaction=True)
def test_after_a_retirement_by_another_process_uploads_use_the_current_key(users, storage, other_process):
    contract = make_contract(users["sales"])
    old = keys.current_key()[0]
    data = f.make_docx()
    upload(users["sales"], contract, "合同.docx", data)
    other_process("keys", "rotate")
    new = (storage.parent / "keys" / "current").read_text().strip()
    run("rotate", "--resume")  # (on SQLite the other process re-wrapped its own database)
    other_process("keys", "retire", old)
    assert not (storage.parent / "keys" / f"{old}.key").exists()
    assert keys.keyring()[0] == new and set(keys.keyring()[1]) == {new}
    version = upload(users["sales"], contract, "补充协议.docx", data + b"\0")
    assert version.key_id == new
    # What this process wrapped opens after a restart too (a keyring read from the files alone).
    keys.keyring.cache_clear()
    assert contents(users["sales"]) == {"合同.docx": data, "补充协议.docx": data + b"\0"}


def test_a_version_stored_while_the_key_rotated_is_written_under_the_new_key(users, storage, monkeypatch):
    """A rotation between storing a file and writing its version row: the row carries the data key
    re-wrapped under the key current then, never the one that is about to be retired."""
    contract = make_contract(users["sales"])
    old = keys.current_key()[0]
    blob_write = blobs.blob_write
    rotated = []

    def write_then_rotate(chunks):
        stored = blob_write(chunks)
        rotated.append(keys.create_key_file())
        return stored

    monkeypatch.setattr(blobs, "blob_write", write_then_rotate)
    data = f.make_docx()
    version = upload(users["sales"], contract, "合同.docx", data)
    assert version.key_id == rotated[0] != old
    (storage.parent / "keys" / f"{old}.key").unlink()
    assert contents(users["sales"]) == {"合同.docx": data}


def test_a_missing_key_is_key_unavailable_not_an_integrity_failure(users, storage):
    contract = make_contract(users["sales"])
    client = APIClient()
    client.force_authenticate(users["sales"])
    data = f.make_docx()
    version = upload(users["sales"], contract, "合同.docx", data)
    url = f"/api/v1/document-versions/{version.pk}/download/"
    # The key is lost: a new key made current and the old key file removed by hand, not retired.
    keys.create_key_file()
    lost = storage.parent / "keys" / f"{version.key_id}.key"
    saved = lost.read_bytes()
    lost.unlink()
    response = client.get(url)
    assert response.status_code == 409 and response.json()["code"] == "key_unavailable"
    event = AuditEvent.objects.get(action="document.read_failed")
    assert version.key_id in event.changes["error"][1]
    assert not AuditEvent.objects.filter(action__in=["document.integrity_failed", "document.downloaded"]).exists()
    # Given back, the same file opens at once: it was intact all along.
    lost.write_bytes(saved)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
