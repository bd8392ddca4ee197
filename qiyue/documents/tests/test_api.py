"""Documents API: multipart uploads (one and many), versions, verified downloads with access events,
error codes for refused files, visibility, paper originals and loans."""

import hashlib

import pytest
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents.models import Document, DocumentVersion

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db
URL = "/api/v1/documents/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="采购合同")


def post_file(client, contract, name, data, **extra):
    return client.post(URL, {"contract": contract.pk, "kind": "signed", "file": f.upload(name, data), **extra},
                       format="multipart")


@pytest.mark.parametrize("kind", list(f.FORMATS))
def test_upload_and_download_each_format(users, contract, storage, kind):
    name, make, content_type = f.FORMATS[kind]
    data = make()
    client = client_for(users["sales"])
    response = post_file(client, contract, name, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    current = body["current_version"]
    assert (body["contract"], body["customer"], body["kind"], body["title"]) == (
        contract.pk, contract.customer_id, "signed", name.rsplit(".", 1)[0])
    assert (current["number"], current["file_type"], current["size"], current["is_current"]) == (
        1, kind, len(data), True)
    assert current["sha256"] == hashlib.sha256(data).hexdigest()
    download = client.get(current["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == data
    assert download["Content-Type"] == content_type and download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Security-Policy"].startswith("sandbox;")
    assert AuditEvent.objects.filter(action="document.downloaded", contract_id=contract.pk).count() == 1


def test_download_with_an_accept_header_for_the_file_type(users, contract, storage):
    client = client_for(users["sales"])
    version_id = post_file(client, contract, "合同.pdf", f.make_pdf()).json()["current_version"]["id"]
    response = client.get(f"/api/v1/document-versions/{version_id}/download/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_many_files_return_a_list(users, contract, storage):
    client = client_for(users["sales"])
    response = client.post(URL, {"contract": contract.pk, "kind": "scan", "files": [
        f.upload("a.png", f.make_image("PNG")), f.upload("b.tiff", f.make_image("TIFF"))]}, format="multipart")
    assert response.status_code == 201
    assert [d["title"] for d in response.json()] == ["a", "b"]
    listing = client.get(URL, {"contract": contract.pk}).json()
    assert listing["count"] == 2


def test_versions(users, contract, storage):
    client = client_for(users["sales"])
    first_data = f.make_pdf()
    document = post_file(client, contract, "合同.pdf", first_data).json()
    second = f.make_docx("第二版")
    response = client.post(f"{URL}{document['id']}/versions/",
                           {"file": f.upload("合同v2.docx", second), "comment": "修订"}, format="multipart")
    assert response.status_code == 201, response.json()
    assert (response.json()["number"], response.json()["comment"], response.json()["is_current"]) == (2, "修订", True)
    versions = client.get(f"{URL}{document['id']}/versions/").json()
    assert [(v["number"], v["is_current"], v["uploaded_by_name"]) for v in versions] == [
        (2, True, "Sales_A"), (1, False, "Sales_A")]
    first = client.get(versions[1]["download_url"])
    assert first.status_code == 200 and b"".join(first.streaming_content) == first_data
    assert client.get(f"{URL}{document['id']}/").json()["current_version"]["number"] == 2


@pytest.mark.parametrize(("name", "make", "code", "status"), [
    ("elf.pdf", lambda: f.ELF, "file_type_not_allowed", 400),
    ("scan.pdf", lambda: f.make_image("PNG"), "file_type_mismatch", 400),
    ("bomb.docx", f.make_zip_bomb, "zip_bomb", 400),
    ("slip.docx", f.make_zip_slip, "zip_unsafe_path", 400),
    ("locked.pdf", f.make_encrypted_pdf, "pdf_encrypted", 400),
    ("v0.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"),
     "pdf_encrypted", 400),
    ("custom.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /VendorLock /V 1 /R 2 >>"), "pdf_encrypted", 400),
    ("v25.docx", lambda: f.make_zip_needing_version(255), "zip_unsupported", 400),
    ("cut.pdf", lambda: f.make_pdf()[:-200], "pdf_corrupt", 400),
    ("empty.pdf", lambda: b"", "file_empty", 400),
    ("big.pdf", lambda: f.make_pdf() + b"\n" * (1 << 20), "file_too_large", 413),
])
def test_refused_files(users, contract, storage, settings, name, make, code, status):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    response = post_file(client_for(users["sales"]), contract, name, make())
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert not Document.objects.exists() and f.stored_blobs(storage) == []


@pytest.mark.parametrize(("name", "make", "code"), [
    ("v0.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"),
     "pdf_encrypted"),
    ("pubsec.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /Adobe.PubSec /V 4 /R 4 >>"), "pdf_encrypted"),
    ("v25.docx", lambda: f.make_zip_needing_version(255), "zip_unsupported"),
])
def test_refused_new_versions_store_nothing(users, contract, storage, name, make, code):
    client = client_for(users["sales"])
    document = post_file(client, contract, "合同.pdf", f.make_pdf()).json()
    response = client.post(f"{URL}{document['id']}/versions/", {"file": f.upload(name, make())}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["field_codes"]) == (code, {"file": [code]})
    assert DocumentVersion.objects.count() == 1 and len(f.stored_blobs(storage)) == 1


@pytest.mark.parametrize("payload", [{}, {"comment": "no file"}, {"file": ""}])
def test_a_new_version_without_a_file_is_file_required(users, contract, storage, payload):
    client = client_for(users["sales"])
    document = post_file(client, contract, "合同.pdf", f.make_pdf()).json()
    response = client.post(f"{URL}{document['id']}/versions/", payload, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["field_codes"]) == ("file_required", {"file": ["file_required"]})
    assert DocumentVersion.objects.count() == 1 and len(f.stored_blobs(storage)) == 1


@pytest.mark.parametrize(("url", "name"), [(URL, "contract"), (URL, "customer"), (URL, "kind"),
                                           ("/api/v1/paper-originals/", "contract"),
                                           ("/api/v1/paper-loans/", "contract")])
@pytest.mark.parametrize("value", ["99999999999999999999999", str(2**63), "-1", "0", "abc", "1.5"])
def test_hostile_list_filters_are_400(users, contract, url, name, value):
    response = client_for(users["sales"]).get(url, {name: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and list(body["fields"]) == [name]


def test_list_filters_by_contract_and_customer(users, contract, storage):
    other = make_contract(users["sales"], title="另一份")
    client = client_for(users["sales"])
    post_file(client, contract, "a.pdf", f.make_pdf())
    post_file(client, other, "b.pdf", f.make_pdf())
    original = client.post("/api/v1/paper-originals/", {"contract": contract.pk, "room": "A"}, format="json").json()
    client.post("/api/v1/paper-originals/", {"contract": other.pk, "room": "B"}, format="json")
    client.post(f"/api/v1/paper-originals/{original['id']}/lend/",
                {"borrower": users["legal"].pk, "lent_on": "2026-01-02"}, format="json")
    assert [d["title"] for d in client.get(URL, {"contract": contract.pk}).json()["results"]] == ["a"]
    assert client.get(URL, {"customer": contract.customer_id}).json()["count"] == (
        2 if other.customer_id == contract.customer_id else 1)
    assert [o["room"] for o in client.get("/api/v1/paper-originals/", {"contract": other.pk}).json()["results"]] == ["B"]
    assert client.get("/api/v1/paper-loans/", {"contract": other.pk}).json()["count"] == 0
    assert client.get("/api/v1/paper-loans/", {"contract": contract.pk}).json()["count"] == 1
    # A contract the user may not see filters to nothing (it is not told apart from an empty one).
    hidden = make_contract(users["sales_b"], title="别队")
    assert client.get(URL, {"contract": hidden.pk}).json()["count"] == 0


def test_an_unhandled_exception_is_a_500_in_the_error_shape_and_logged(users, contract, monkeypatch, caplog):
    from qiyue.documents import selectors

    def broken(**kwargs):
        raise RuntimeError("selector broke")

    monkeypatch.setattr(selectors, "document_list", broken)
    client = client_for(users["sales"])
    client.raise_request_exception = False
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get(URL, HTTP_ACCEPT="text/html")  # a browser asking for the API: still JSON
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json() == {"code": "server_error", "message": response.json()["message"], "fields": {},
                               "field_codes": {}}
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info and record.exc_info[0] is RuntimeError


def test_integrity_failure_is_409_json(users, contract, storage):
    client = client_for(users["sales"])
    version_id = post_file(client, contract, "合同.pdf", f.make_pdf()).json()["current_version"]["id"]
    [blob] = f.stored_blobs(storage)
    raw = bytearray(blob.read_bytes())
    raw[20] ^= 4
    blob.write_bytes(bytes(raw))
    response = client.get(f"/api/v1/document-versions/{version_id}/download/")
    assert response.status_code == 409 and response.json()["code"] == "integrity_failed"
    assert AuditEvent.objects.filter(action="document.integrity_failed").count() == 1


def test_visibility(users, contract, storage):
    version_id = post_file(client_for(users["sales"]), contract, "合同.pdf", f.make_pdf()).json()["current_version"]["id"]
    document_id = Document.objects.get().pk
    other = client_for(users["sales_b"])
    assert other.get(URL).json()["count"] == 0
    for url in (f"{URL}{document_id}/", f"{URL}{document_id}/versions/",
                f"/api/v1/document-versions/{version_id}/", f"/api/v1/document-versions/{version_id}/download/",
                f"/api/v1/document-versions/{version_id}/preview/"):
        response = other.get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found", url
    response = post_file(other, contract, "x.pdf", f.make_pdf())
    assert response.status_code == 400 and "contract" in response.json()["fields"]
    response = post_file(client_for(users["auditor"]), contract, "x.pdf", f.make_pdf())
    assert response.status_code == 403
    assert DocumentVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_rename_and_delete(users, contract, storage):
    client = client_for(users["sales"])
    document = post_file(client, contract, "合同.pdf", f.make_pdf()).json()
    response = client.patch(f"{URL}{document['id']}/", {"title": "采购合同（盖章）", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "采购合同（盖章）"
    assert client.patch(f"{URL}{document['id']}/", {"title": "x", "version": 1}, format="json").status_code == 409
    assert client.delete(f"{URL}{document['id']}/").status_code == 204
    assert client.get(f"{URL}{document['id']}/").status_code == 404


def test_paper_originals_and_loans(users, contract):
    client = client_for(users["sales"])
    response = client.post("/api/v1/paper-originals/", {"contract": contract.pk, "room": "档案室A",
                                                         "cabinet": "3", "box": "12"}, format="json")
    assert response.status_code == 201, response.json()
    original = response.json()
    assert (original["location"], original["lent_out"]) == ("档案室A / 3 / 12", False)
    response = client.post(f"/api/v1/paper-originals/{original['id']}/lend/", {
        "borrower": users["legal"].pk, "purpose": "诉讼", "lent_on": "2026-01-02", "due_on": "2026-01-05"},
        format="json")
    assert response.status_code == 201 and response.json()["is_overdue"] is True
    loan = response.json()
    again = client.post(f"/api/v1/paper-originals/{original['id']}/lend/",
                        {"borrower": users["sales2"].pk, "lent_on": "2026-01-03"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_lent"
    assert [x["id"] for x in client.get("/api/v1/paper-loans/", {"overdue": "true"}).json()["results"]] == [loan["id"]]
    assert client_for(users["sales_b"]).get(f"/api/v1/paper-loans/{loan['id']}/").status_code == 404
    response = client.post(f"/api/v1/paper-loans/{loan['id']}/return/", {"returned_on": "2026-01-06"}, format="json")
    assert response.status_code == 200 and response.json()["returned_on"] == "2026-01-06"
    moved = client.patch(f"/api/v1/paper-originals/{original['id']}/", {"box": "13"}, format="json")
    assert moved.status_code == 200 and moved.json()["location"] == "档案室A / 3 / 13"
    assert len(moved.json()["loans"]) == 1
    assert AuditEvent.objects.filter(contract_id=contract.pk, action="paper_original.updated").exists()


def test_storage_failure_is_503_not_an_integrity_alarm(users, contract, storage, monkeypatch):
    from django.test import Client

    from qiyue.vault import blobs

    client = client_for(users["sales"])
    version_id = post_file(client, contract, "合同.pdf", f.make_pdf()).json()["current_version"]["id"]

    def full_disk(**kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(blobs, "blob_read", full_disk)
    response = client.get(f"/api/v1/document-versions/{version_id}/download/")
    assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
    assert AuditEvent.objects.filter(action="document.read_failed").count() == 1
    assert not AuditEvent.objects.filter(action__in=["document.integrity_failed", "document.downloaded"]).exists()
    client_ui = Client()
    client_ui.force_login(users["sales"])
    page = client_ui.get(f"/documents/versions/{version_id}/download/")
    assert page.status_code == 503 and "could not be opened" in page.content.decode()
