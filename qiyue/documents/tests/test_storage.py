"""`qiyue storage check`: orphan blobs are listed and (old enough) removed; missing blobs listed."""

import io

import pytest
from django.core.management import CommandError, call_command

from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import services
from qiyue.vault import blobs

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db


def check(*args) -> str:
    out = io.StringIO()
    call_command("storage", "check", *args, stdout=out)
    return out.getvalue()


def test_orphans_are_found_and_fixed(users, storage):
    contract = make_contract(users["sales"])
    [document] = services.document_upload(actor=users["sales"], contract=contract,
                                          files=[f.upload("合同.pdf", f.make_pdf())])
    assert "1 blobs in storage, 1 versions; 0 orphans" in check()
    orphan = blobs.blob_write([b"an upload that never reached the database"])
    assert f"orphan  {orphan.name}\n" in check()
    output = check("--fix")
    assert f"orphan  {orphan.name}  (kept: younger" in output  # an upload may still be in flight
    output = check("--fix", "--min-age-minutes", "0")
    assert f"orphan  {orphan.name}  (deleted)" in output and "1 orphans (1 deleted)" in output
    assert "0 orphans, 0 missing" in check()
    assert (storage / document.current_version.blob_name).exists()


def test_missing_blobs_are_reported(users, storage):
    contract = make_contract(users["sales"])
    [document] = services.document_upload(actor=users["sales"], contract=contract,
                                          files=[f.upload("合同.pdf", f.make_pdf())])
    (storage / document.current_version.blob_name).unlink()
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("storage", "check", stdout=out)
    assert info.value.returncode == 2 and f"missing {document.current_version.blob_name}" in out.getvalue()


def test_an_empty_store(db, storage):
    assert "0 blobs in storage, 0 versions; 0 orphans" in check()
