"""`qiyue keys`: rotation re-wraps data keys in committed batches, can be interrupted and resumed,
never touches the stored files, and old keys retire only when nothing uses them."""

import base64
import io
import os

import pytest
from django.core.management import CommandError, call_command

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import services
from qiyue.documents.models import DocumentVersion
from qiyue.vault import keys

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
