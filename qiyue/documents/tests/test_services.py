"""Document services: upload/version/download round trips with real files, encryption at rest,
integrity failures, refused files leaving nothing behind, visibility, paper originals."""

import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.errors import ApplicationError
from qiyue.customers.tests.factories import make_customer
from qiyue.documents import selectors, services
from qiyue.documents.models import Document, DocumentVersion, PaperLoan

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="采购合同")


def upload_one(actor, contract, name, data, **kwargs) -> Document:
    [document] = services.document_upload(actor=actor, files=[f.upload(name, data)], contract=contract, **kwargs)
    return document


def read_version(actor, version) -> bytes:
    with services.version_open(actor=actor, version=version) as plain:
        return plain.read()


@pytest.mark.parametrize("kind", list(f.FORMATS))
def test_round_trip_for_each_format(users, contract, storage, kind):
    name, make, content_type = f.FORMATS[kind]
    data = make()
    document = upload_one(users["sales"], contract, name, data, kind="signed")
    version = document.current_version
    assert (document.title, document.customer_id, document.kind) == (name.rsplit(".", 1)[0], contract.customer_id,
                                                                    "signed")
    assert (version.number, version.filename, version.file_type, version.content_type, version.size) == (
        1, name, kind, content_type, len(data))
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    # Storage holds only ciphertext, under a generated name.
    [blob] = f.stored_blobs(storage)
    raw = blob.read_bytes()
    assert raw[:4] == b"QYE1" and data[:64] not in raw and name not in str(blob)
    assert read_version(users["legal"], version) == data
    event = AuditEvent.objects.filter(action="document.downloaded").get()
    assert (event.kind, event.contract_id, event.target_id, event.changes) == (
        "access", contract.pk, str(document.pk), {"version": [None, 1]})


def test_new_versions_and_downloading_any_version(users, contract, storage):
    first, second = f.make_pdf("第一版"), f.make_docx("第二版")
    document = upload_one(users["sales"], contract, "合同.pdf", first)
    version = services.document_add_version(actor=users["sales2"], document=document,
                                            file=f.upload("合同-修订.docx", second), comment="修订违约条款",
                                            expected_version=document.version)
    document.refresh_from_db()
    assert (version.number, version.comment, document.current_version_id, document.version) == (
        2, "修订违约条款", version.pk, 2)
    old = document.versions.get(number=1)
    assert read_version(users["sales"], old) == first
    assert read_version(users["sales"], version) == second
    assert list(AuditEvent.objects.filter(action="document.downloaded").order_by("seq")
                .values_list("changes", flat=True)) == [
        {"version": [None, 1]}, {"version": [None, 2]}]
    with pytest.raises(ApplicationError) as info:  # a stale form
        services.document_add_version(actor=users["sales"], document=document, file=f.upload("x.pdf", first),
                                      expected_version=1)
    assert info.value.code == "stale_version"
    assert len(f.stored_blobs(storage)) == 2


def test_many_files_at_once_and_on_a_customer(users, storage):
    customer = make_customer(users["sales"])
    documents = services.document_upload(
        actor=users["sales"], customer=customer, kind="attachment", title="ignored for several",
        files=[f.upload("营业执照.png", f.make_image("PNG")), f.upload("报价.xlsx", f.make_xlsx())])
    assert [d.title for d in documents] == ["营业执照", "报价"]
    assert all(d.contract_id is None and d.customer_id == customer.pk for d in documents)
    assert AuditEvent.objects.filter(action="document.uploaded", customer_id=customer.pk).count() == 2


def test_flipped_bit_gives_integrity_failed_and_an_audit_event(users, contract, storage):
    document = upload_one(users["sales"], contract, "合同.pdf", f.make_pdf())
    [blob] = f.stored_blobs(storage)
    raw = bytearray(blob.read_bytes())
    raw[40] ^= 1
    blob.write_bytes(bytes(raw))
    with pytest.raises(ApplicationError) as info:
        services.version_open(actor=users["sales"], version=document.current_version)
    assert (info.value.code, info.value.status) == ("integrity_failed", 409)
    event = AuditEvent.objects.get(action="document.integrity_failed")
    assert event.contract_id == contract.pk and event.changes["version"] == [None, 1]
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_a_wrong_hash_is_integrity_failed_too(users, contract, storage):
    document = upload_one(users["sales"], contract, "合同.pdf", f.make_pdf())
    DocumentVersion.objects.filter(pk=document.current_version_id).update(sha256="0" * 64)
    with pytest.raises(ApplicationError) as info:
        services.version_open(actor=users["sales"], version=DocumentVersion.objects.get())
    assert info.value.code == "integrity_failed"


BAD_FILES = [
    ("empty.pdf", lambda: b"", "file_empty"),
    ("elf.pdf", lambda: f.ELF, "file_type_not_allowed"),
    ("pe.pdf", lambda: f.PE, "file_type_not_allowed"),
    ("scan.pdf", lambda: f.make_image("PNG"), "file_type_mismatch"),
    ("bomb.docx", f.make_zip_bomb, "zip_bomb"),
    ("slip.docx", f.make_zip_slip, "zip_unsafe_path"),
    ("locked.pdf", f.make_encrypted_pdf, "pdf_encrypted"),
    ("cut.pdf", lambda: f.make_pdf()[:-200], "pdf_corrupt"),
    ("big.pdf", lambda: f.make_pdf() + b"\n" * (1024 * 1024), "file_too_large"),
    ("../../../etc/ok.exe", f.make_pdf, "file_type_mismatch"),
]


@pytest.mark.parametrize(("name", "make", "code"), BAD_FILES)
def test_bad_files_are_refused_and_nothing_is_stored(users, contract, storage, settings, name, make, code):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    good = f.upload("好文件.pdf", f.make_pdf())
    with pytest.raises(ApplicationError) as info:
        services.document_upload(actor=users["sales"], contract=contract, files=[good, f.upload(name, make())])
    assert info.value.code == code
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert f.stored_blobs(storage) == []
    assert not AuditEvent.objects.filter(action="document.uploaded").exists()


def test_a_failing_transaction_deletes_the_blob(users, contract, storage, monkeypatch):
    def broken(*args, **kwargs):
        raise ValidationError("database said no")

    monkeypatch.setattr(services, "_new_version", broken)
    with pytest.raises(ValidationError):
        upload_one(users["sales"], contract, "合同.pdf", f.make_pdf())
    assert not Document.objects.exists() and f.stored_blobs(storage) == []


def test_names_are_cleaned(users, contract, storage):
    document = upload_one(users["sales"], contract, "..\\..\\evil\u202etxt.pdf", f.make_pdf())
    assert document.current_version.filename == "eviltxt.pdf" and document.title == "eviltxt"


def test_visibility_and_permissions(users, contract, storage):
    document = upload_one(users["sales"], contract, "合同.pdf", f.make_pdf())
    for role in ("sales", "sales2", "manager", "admin", "legal", "finance", "auditor"):
        assert selectors.document_list(user=users[role], contract_id=contract.pk).count() == 1, role
    for role in ("sales_b", "manager_b"):
        assert not selectors.document_queryset(user=users[role]).exists()
        assert not selectors.version_queryset(user=users[role]).exists()
    for role in ("sales_b", "legal", "auditor"):  # cannot write to this contract
        with pytest.raises(ApplicationError) as info:
            upload_one(users[role], contract, "x.pdf", f.make_pdf())
        assert info.value.code in ("permission_denied", "not_found")
    services.document_delete(actor=users["sales"], document=document)
    assert not selectors.document_queryset(user=users["admin"]).exists()
    assert AuditEvent.objects.filter(action="document.deleted", contract_id=contract.pk).exists()


def test_paper_original_custody(users, contract):
    original = services.paper_original_record(actor=users["sales"], contract=contract,
                                              data={"room": "档案室A", "cabinet": "3号柜", "box": "12", "copies": 2})
    assert str(original) == "档案室A / 3号柜 / 12"
    loan = services.paper_original_lend(actor=users["sales"], original=original, borrower=users["legal"],
                                        purpose="诉讼取证", lent_on=datetime.date(2026, 1, 5),
                                        due_on=datetime.date(2026, 1, 10))
    assert loan.is_overdue  # the due date is in the past
    with pytest.raises(ApplicationError) as info:
        services.paper_original_lend(actor=users["sales"], original=original, borrower=users["sales2"],
                                     lent_on=datetime.date(2026, 1, 6))
    assert (info.value.code, info.value.status) == ("already_lent", 409)
    assert [loan.pk] == [x.pk for x in selectors.overdue_loans(user=users["sales"])]
    assert not selectors.overdue_loans(user=users["sales_b"]).exists()
    with pytest.raises(ApplicationError):
        services.paper_loan_return(actor=users["sales"], loan=loan, returned_on=datetime.date(2026, 1, 1))
    services.paper_loan_return(actor=users["sales"], loan=loan, returned_on=datetime.date(2026, 1, 12))
    loan.refresh_from_db()
    assert loan.returned_on == datetime.date(2026, 1, 12) and not loan.is_overdue
    with pytest.raises(ApplicationError) as info:
        services.paper_loan_return(actor=users["sales"], loan=loan, returned_on=datetime.date(2026, 1, 13))
    assert info.value.code == "not_lent"
    services.paper_original_lend(actor=users["sales"], original=original, borrower=users["sales2"],
                                 lent_on=datetime.date(2026, 2, 1))
    assert PaperLoan.objects.filter(original=original).count() == 2
    assert list(AuditEvent.objects.filter(contract_id=contract.pk, action__startswith="paper_original.")
                .order_by("seq").values_list("action", flat=True)) == [
        "paper_original.recorded", "paper_original.lent", "paper_original.returned", "paper_original.lent"]
    with pytest.raises(ApplicationError) as info:
        services.paper_original_record(actor=users["legal"], contract=contract, data={"room": "X"})
    assert info.value.code == "permission_denied"
