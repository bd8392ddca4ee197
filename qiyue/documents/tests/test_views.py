"""Document pages: the panels on the contract and customer pages, multipart uploads with HTMX
partial refresh, downloads (headers, access events, integrity), paper originals. Previews: test_preview.py."""

import datetime
import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.documents import selectors, services
from qiyue.documents.models import Document, DocumentVersion, PaperLoan, PaperOriginal

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="采购合同")


@pytest.fixture
def document(users, contract, storage):
    [document] = services.document_upload(actor=users["sales"], contract=contract,
                                          files=[f.upload("采购合同.pdf", f.make_pdf())])
    return document


def login(client, user):
    client.force_login(user)
    return client


def test_contract_and_customer_pages_load_the_panels(client, users, contract, storage):
    login(client, users["sales"])
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert reverse("documents:contract_panel", args=[contract.pk]) in page
    assert reverse("documents:paper_panel", args=[contract.pk]) in page
    assert "js/upload.js" in page
    page = client.get(reverse("customers:detail", args=[contract.customer_id])).content.decode()
    assert reverse("documents:customer_panel", args=[contract.customer_id]) in page


def test_upload_several_files_with_htmx_refreshes_the_panel(client, users, contract, storage):
    login(client, users["sales"])
    url = reverse("documents:contract_upload", args=[contract.pk])
    response = client.post(url, {"kind": "scan", "title": "", "files": [
        f.upload("扫描件.png", f.make_image("PNG")), f.upload("合同.docx", f.make_docx())]}, **HX)
    assert response.status_code == 200
    assert response.templates[0].name == "documents/_panel.html"
    html = response.content.decode()
    assert 'id="documents-panel"' in html and "扫描件" in html and "合同" in html
    assert Document.objects.filter(contract=contract, kind="scan").count() == 2
    panel = client.get(reverse("documents:contract_panel", args=[contract.pk]))
    assert panel.content.decode().count("data-document-id") == 2


def test_upload_without_htmx_redirects_back(client, users, contract, storage):
    login(client, users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "signed", "files": [f.upload("合同.pdf", f.make_pdf())]})
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[contract.pk])
    assert Document.objects.get().title == "合同"


def test_upload_on_a_customer(client, users, storage):
    customer = make_customer(users["sales"])
    login(client, users["sales"])
    response = client.post(reverse("documents:customer_upload", args=[customer.pk]),
                           {"kind": "attachment", "files": [f.upload("执照.jpg", f.make_image("JPEG"))]}, **HX)
    assert response.status_code == 200
    assert Document.objects.get().customer_id == customer.pk


def test_oversize_upload_is_stopped_while_streaming(client, users, contract, storage, settings):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    login(client, users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload("big.pdf", f.make_pdf() + b"\n" * (1 << 20))]}, **HX)
    assert response.status_code == 413
    assert response.wsgi_request.oversize_uploads == ["files"]  # dropped by the upload handler
    assert 'data-error-code="file_too_large"' in response.content.decode()
    assert not Document.objects.exists() and f.stored_blobs(storage) == []


@pytest.mark.parametrize(("name", "make", "code", "status"), [
    ("program.pdf", lambda: f.ELF, "file_type_not_allowed", 400),
    ("bomb.docx", f.make_zip_bomb, "zip_bomb", 400),
    ("locked.pdf", f.make_encrypted_pdf, "pdf_encrypted", 400),
    ("v0.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"),
     "pdf_encrypted", 400),
    ("pubsec.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /Adobe.PubSec /V 4 /R 4 >>"), "pdf_encrypted", 400),
    ("v25.docx", lambda: f.make_zip_needing_version(255), "zip_unsupported", 400),
])
def test_refused_upload_shows_its_code(client, users, contract, storage, name, make, code, status):
    login(client, users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload(name, make())]}, **HX)
    assert response.status_code == status
    assert f'data-error-code="{code}"' in response.content.decode()
    assert not Document.objects.exists() and f.stored_blobs(storage) == []


def test_no_file_chosen(client, users, contract, storage):
    login(client, users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]), {"kind": "scan"}, **HX)
    assert 'data-error-code="file_required"' in response.content.decode()


def test_upload_needs_the_csrf_token(users, contract, storage):
    client = login(Client(enforce_csrf_checks=True), users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload("合同.pdf", f.make_pdf())]})
    assert response.status_code == 403 and not Document.objects.exists()


def test_download_headers_bytes_and_access_event(client, users, contract, document):
    login(client, users["legal"])
    version = document.current_version
    response = client.get(reverse("documents:download", args=[version.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == version.sha256 and len(body) == version.size
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")  # opened in a browser, it runs nothing
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''%E9%87%87%E8%B4%AD" in disposition
    event = AuditEvent.objects.get(action="document.downloaded")
    assert (event.contract_id, event.actor_id, event.kind) == (contract.pk, users["legal"].pk, "access")


def test_another_team_gets_404_everywhere(client, users, contract, document):
    login(client, users["sales_b"])
    version = document.current_version
    for url in (reverse("documents:contract_panel", args=[contract.pk]),
                reverse("documents:detail", args=[document.pk]),
                reverse("documents:download", args=[version.pk]),
                reverse("documents:preview", args=[version.pk]),
                reverse("documents:paper_panel", args=[contract.pk])):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload("x.pdf", f.make_pdf())]})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(kind="access", action__startswith="document.").exists()


def test_readers_can_download_but_not_upload(client, users, contract, document):
    login(client, users["auditor"])
    assert "data-upload" not in client.get(reverse("documents:contract_panel", args=[contract.pk])).content.decode()
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload("x.pdf", f.make_pdf())]}, **HX)
    assert response.status_code == 403
    assert client.get(reverse("documents:download", args=[document.current_version_id])).status_code == 200


def test_integrity_failure_page_sends_no_bytes(client, users, document, storage):
    [blob] = f.stored_blobs(storage)
    raw = bytearray(blob.read_bytes())
    raw[-5] ^= 0x80
    blob.write_bytes(bytes(raw))
    login(client, users["sales"])
    response = client.get(reverse("documents:download", args=[document.current_version_id]))
    assert response.status_code == 409
    assert 'data-error-code="integrity_failed"' in response.content.decode()
    assert "Content-Disposition" not in response and response["Content-Type"].startswith("text/html")
    assert AuditEvent.objects.filter(action="document.integrity_failed").count() == 1


def test_new_version_from_the_document_page(client, users, document):
    login(client, users["sales"])
    page = client.get(reverse("documents:detail", args=[document.pk]))
    assert page.status_code == 200 and 'data-testid="current-version"' in page.content.decode()
    response = client.post(reverse("documents:add_version", args=[document.pk]),
                           {"comment": "盖章版", "version": document.version,
                            "file": f.upload("采购合同-盖章.pdf", f.make_pdf("盖章"))}, **HX)
    assert response.status_code == 200 and response.templates[0].name == "documents/_versions.html"
    html = response.content.decode()
    assert "盖章版" in html and 'data-version="2" class="version-current" data-current="true"' in html
    stale = client.post(reverse("documents:add_version", args=[document.pk]),
                        {"version": 1, "file": f.upload("x.pdf", f.make_pdf())}, **HX)
    assert stale.status_code == 409 and DocumentVersion.objects.count() == 2


@pytest.mark.parametrize("payload", [{"comment": "忘了附件"}, {"file": ""}])
def test_a_new_version_without_a_file_is_a_field_error(client, users, document, storage, payload):
    login(client, users["sales"])
    url = reverse("documents:add_version", args=[document.pk])
    response = client.post(url, {"version": document.version, **payload}, **HX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-code="file_required"' in html and 'data-testid="error-file"' in html
    assert response.context["version_form"].errors["file"]
    page = client.post(url, {"version": document.version, **payload})
    assert page.status_code == 302 and page["Location"] == reverse("documents:detail", args=[document.pk])
    assert DocumentVersion.objects.count() == 1 and len(f.stored_blobs(storage)) == 1


@pytest.mark.parametrize(("name", "make", "code"), [
    ("v0.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"),
     "pdf_encrypted"),
    ("custom.pdf", lambda: f.make_pdf_with_encrypt(b"<< /Filter /VendorLock /V 1 /R 2 >>"), "pdf_encrypted"),
    ("v25.docx", lambda: f.make_zip_needing_version(255), "zip_unsupported"),
])
def test_a_refused_new_version_is_a_field_error(client, users, document, storage, name, make, code):
    login(client, users["sales"])
    response = client.post(reverse("documents:add_version", args=[document.pk]),
                           {"version": document.version, "file": f.upload(name, make())}, **HX)
    assert response.status_code == 400
    assert f'data-error-code="{code}"' in response.content.decode() and response.context["version_form"].errors["file"]
    assert DocumentVersion.objects.count() == 1 and len(f.stored_blobs(storage)) == 1


def test_an_unhandled_exception_on_a_page_is_the_html_500_page(client, users, document, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("selector broke")

    monkeypatch.setattr(selectors, "document_open", broken)
    login(client, users["sales"])
    client.raise_request_exception = False
    response = client.get(reverse("documents:detail", args=[document.pk]))
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert "server_error" not in response.content.decode()


def test_delete_document(client, users, contract, document):
    login(client, users["sales"])
    response = client.post(reverse("documents:delete", args=[document.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[contract.pk])
    assert client.get(reverse("documents:detail", args=[document.pk])).status_code == 404


def test_paper_originals_panel(client, users, contract):
    login(client, users["sales"])
    response = client.post(reverse("documents:paper_create", args=[contract.pk]),
                           {"paper-room": "档案室B", "paper-cabinet": "7", "paper-box": "A-3", "paper-copies": "2",
                            "paper-description": "", "paper-notes": ""}, **HX)
    assert response.status_code == 200 and "档案室B / 7 / A-3" in response.content.decode()
    original = PaperOriginal.objects.get()
    prefix = f"lend-{original.pk}"
    response = client.post(reverse("documents:paper_lend", args=[original.pk]), {
        f"{prefix}-borrower": users["legal"].pk, f"{prefix}-purpose": "仲裁", f"{prefix}-lent_on": "2026-01-02",
        f"{prefix}-due_on": "2026-01-09"}, **HX)
    html = response.content.decode()
    assert 'data-testid="open-loan"' in html and 'data-testid="overdue"' in html
    loan = PaperLoan.objects.get()
    response = client.post(reverse("documents:paper_return", args=[loan.pk]),
                           {f"return-{loan.pk}-returned_on": "2026-01-01"}, **HX)
    assert 'data-testid="paper-error"' in response.content.decode()
    response = client.post(reverse("documents:paper_return", args=[loan.pk]),
                           {f"return-{loan.pk}-returned_on": "2026-01-08"}, **HX)
    assert 'data-testid="loan-history"' in response.content.decode()
    loan.refresh_from_db()
    assert loan.returned_on == datetime.date(2026, 1, 8)
    login(client, users["auditor"])
    panel = client.get(reverse("documents:paper_panel", args=[contract.pk])).content.decode()
    assert "档案室B" in panel and "paper-form" not in panel
    assert client.post(reverse("documents:paper_create", args=[contract.pk]), {"paper-room": "X"}).status_code == 403


def test_a_large_single_upload_never_touches_disk_in_plaintext(client, users, contract, storage, monkeypatch):
    """Up to the size limit, the uploaded plaintext stays in memory until it is encrypted."""
    import io
    import os

    from django.core.files import uploadedfile
    from PIL import Image

    def no_temp_file(*args, **kwargs):
        raise AssertionError("the upload was written to a temporary file")

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", no_temp_file)
    noise = Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert buffer.tell() > 3 * 1024 * 1024  # bigger than Django's default in-memory threshold
    login(client, users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload("扫描件.png", buffer.getvalue())]})
    assert response.status_code == 302
    assert DocumentVersion.objects.get().size == buffer.tell()


def test_the_versions_list_links_to_the_comparison_once_there_are_two(client, users, document):
    login(client, users["sales"])
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'data-testid="compare-versions"' not in page and 'data-testid="compare-v' not in page
    services.document_add_version(actor=users["sales"], document=document,
                                  file=f.upload("采购合同-v2.pdf", f.make_pdf("第二版")), comment="")
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    compare = reverse("archive:compare", args=[document.pk])
    assert f'href="{compare}" data-testid="compare-versions"' in page
    newest = document.versions.order_by("-number").first()
    assert f'href="{compare}?b={newest.pk}" data-testid="compare-v2"' in page
    assert client.get(compare).status_code == 200 and client.get(f"{compare}?b={newest.pk}").status_code == 200


def test_rows_ask_again_while_a_text_is_being_read_and_stop_when_done(client, users, contract, document):
    login(client, users["sales"])
    url = reverse("documents:contract_panel", args=[contract.pk])
    version = document.current_version
    for status in ("queued", "running"):
        DocumentVersion.objects.filter(pk=version.pk).update(extraction_status=status)
        html = client.get(url).content.decode()
        rows = html[html.index('<tbody id="documents-rows"'):]
        # Only the rows are fetched again, so a half-filled upload form below is left alone.
        assert 'hx-trigger="every 3s"' in rows[:300] and 'hx-select="#documents-rows"' in rows[:300]
        assert f'hx-get="{url}"' in rows[:300]
    DocumentVersion.objects.filter(pk=version.pk).update(extraction_status="done")
    html = client.get(url).content.decode()
    assert "hx-trigger" not in html[html.index('<tbody id="documents-rows"'):][:300]
