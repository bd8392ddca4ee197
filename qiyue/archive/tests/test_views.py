"""Archive pages: browsing with facets, soft deletion hiding a contract everywhere, the hold and
delete forms on the contract page, retention policies, and the version compare page."""

import datetime
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract, RetentionPolicy
from qiyue.contracts.services import contract_delete, contract_set_legal_hold, contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.documents.models import Document, DocumentText, DocumentVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(users):
    customer = make_customer(users["sales"], name="归档测试客户有限公司")
    keep = make_contract(users["sales"], customer=customer, title="保留的合同")
    gone = make_contract(users["sales"], customer=customer, title="删除的合同", number="DEL-0001")
    return keep, gone


def test_deleted_contract_disappears_everywhere_but_the_audit_trail(client, users, pair):
    keep, gone = pair
    client.force_login(users["sales"])
    before = client.get(reverse("dashboard")).context["total"]
    contract_delete(actor=users["sales"], contract=gone, reason="重复录入")

    listing = client.get(reverse("contracts:list"))
    assert [c.pk for c in listing.context["page"].object_list] == [keep.pk]
    assert client.get(reverse("contracts:detail", args=[gone.pk])).status_code == 404
    assert client.get(reverse("contracts:update", args=[gone.pk])).status_code == 404
    export = client.get(reverse("contracts:export"), {"format": "csv"})
    assert "DEL-0001" not in b"".join(export.streaming_content).decode()
    assert client.get(reverse("dashboard")).context["total"] == before - 1
    customer_page = client.get(reverse("customers:detail", args=[keep.customer_id]))
    assert [c.pk for c in customer_page.context["contracts"]] == [keep.pk]
    assert sum(row["count"] for row in customer_page.context["totals"]) == 1
    assert "删除的合同" not in customer_page.content.decode()
    archive = client.get(reverse("archive:index"))
    assert [c.pk for c in archive.context["page"].object_list] == [keep.pk]
    assert sum(v.count for f in archive.context["facets"] if f.name == "status" for v in f.values) == 1

    api = APIClient()
    api.force_authenticate(users["admin"])
    assert api.get(f"/api/v1/contracts/{gone.pk}/").status_code == 404
    assert [r["id"] for r in api.get("/api/v1/contracts/").json()["results"]] == [keep.pk]
    assert api.patch(f"/api/v1/contracts/{gone.pk}/", {"title": "x", "version": 2}, format="json").status_code == 404
    assert api.get("/api/v1/archive/facets/").json()["total"] == 1

    # The audit trail keeps the contract and its deletion.
    assert AuditEvent.objects.filter(contract_id=gone.pk, action="contract.deleted").exists()
    client.force_login(users["admin"])
    log = client.get(reverse("audit:list"), {"contract": gone.pk}).content.decode()
    assert "deleted the contract" in log and "DEL-0001" in log


def test_archive_deleted_view_is_for_admin_and_auditor(client, users, pair):
    keep, gone = pair
    contract_delete(actor=users["sales"], contract=gone, reason="重复录入")
    for role in ("admin", "auditor"):
        client.force_login(users[role])
        response = client.get(reverse("archive:index"), {"deleted": "1"})
        assert [c.pk for c in response.context["page"].object_list] == [gone.pk]
        body = response.content.decode()
        assert "重复录入" in body and 'data-testid="show-live"' in body
    for role in ("legal", "sales", "manager"):
        client.force_login(users[role])
        response = client.get(reverse("archive:index"), {"deleted": "1"})
        assert [c.pk for c in response.context["page"].object_list] == [keep.pk]
        assert 'data-testid="show-deleted"' not in response.content.decode()


def test_archive_page_facets_link_to_filtered_lists(client, users, pair):
    keep, _gone = pair
    make_contract(users["sales_b"], nature="lease", title="别组合同")
    client.force_login(users["sales"])
    response = client.get(reverse("archive:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "别组合同" not in body and 'data-facet="nature"' in body
    nature = next(f for f in response.context["facets"] if f.name == "nature")
    assert [(v.value, v.count) for v in nature.values] == [("sales", 2)]
    assert nature.values[0].url == "?nature=sales"
    filtered = client.get(reverse("archive:index") + nature.values[0].url + "&signing_year=none")
    assert len(filtered.context["page"].object_list) == 2
    partial = client.get(reverse("archive:index"), {"status": "draft"}, HTTP_HX_REQUEST="true")
    assert [t.name for t in partial.templates][0] == "archive/_browse.html"
    assert "<html" not in partial.content.decode()
    assert client.get(reverse("archive:index"), {"signing_year": "19x"}).status_code == 200


def test_archive_page_shows_hold_and_retention(client, users, pair):
    keep, gone = pair
    contract_set_legal_hold(actor=users["legal"], contract=keep, hold=True, reason="诉讼")
    client.force_login(users["sales"])
    body = client.get(reverse("archive:index")).content.decode()
    assert body.count('data-testid="row-legal-hold"') == 1 and "none (never signed)" in body


def test_archive_list_query_count(client, users, django_assert_max_num_queries):
    for _ in range(5):
        make_contract(users["sales"])
    client.force_login(users["admin"])
    # The navigation bar counts unread notifications and open approval tasks: one query each.
    with django_assert_max_num_queries(17):
        client.get(reverse("archive:index"))


def test_contract_page_panel_per_role(client, users, pair):
    keep, _gone = pair
    url = reverse("contracts:detail", args=[keep.pk])
    expected = {"legal": (True, False), "admin": (True, True), "sales": (False, True), "sales2": (False, True),
                "auditor": (False, False), "finance": (False, False)}
    for role, (hold, delete) in expected.items():
        client.force_login(users[role])
        body = client.get(url).content.decode()
        assert 'data-testid="archive-panel"' in body
        assert ('data-testid="legal-hold-form"' in body) is hold, role
        assert ('data-testid="delete-contract"' in body) is delete, role


def test_hold_and_release_through_the_page(client, users, pair):
    keep, _gone = pair
    url = reverse("archive:legal_hold", args=[keep.pk])
    client.force_login(users["sales"])
    assert client.post(url, {"hold": "1", "reason": "x"}).status_code == 403
    client.force_login(users["legal"])
    assert client.post(url, {"hold": "1", "reason": ""}).status_code == 302
    assert not Contract.objects.get(pk=keep.pk).legal_hold
    response = client.post(url, {"hold": "1", "reason": "仲裁进行中"})
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[keep.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="legal-hold-badge"' in page and "仲裁进行中" in page and "placed a legal hold" in page
    client.force_login(users["sales"])
    response = client.post(reverse("archive:delete", args=[keep.pk]), {"reason": "不要了"}, follow=True)
    assert "under legal hold" in response.content.decode()
    assert Contract.objects.get(pk=keep.pk).deleted_at is None
    client.force_login(users["legal"])
    client.post(url, {"hold": "0", "reason": "结案"})
    assert not Contract.objects.get(pk=keep.pk).legal_hold


def test_delete_through_the_page(client, users, pair):
    _keep, gone = pair
    url = reverse("archive:delete", args=[gone.pk])
    client.force_login(users["sales_b"])
    assert client.post(url, {"reason": "x"}).status_code == 404
    client.force_login(users["legal"])
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(users["sales2"])
    assert client.get(url).status_code == 405
    response = client.post(url, {"reason": "录入错误"})
    assert response.status_code == 302 and response["Location"] == reverse("contracts:list")
    assert Contract.objects.get(pk=gone.pk).deleted_reason == "录入错误"
    assert client.post(url, {"reason": "again"}).status_code == 404


def test_signed_contract_shows_retention_and_refuses_delete(client, users, pair):
    keep, _gone = pair
    contract = keep
    for name in ("submit", "approve"):
        contract = contract_transition(actor=users["admin"], contract=contract, name=name, via_workflow=name == "approve")
    contract_transition(actor=users["admin"], contract=contract, name="sign", signing_method="wet_ink",
                        signing_date=datetime.date(2026, 1, 5))
    client.force_login(users["admin"])
    page = client.get(reverse("contracts:detail", args=[keep.pk])).content.decode()
    assert "while the contract runs, then 10 years" in page
    assert "within its retention period cannot be deleted" in page
    response = client.post(reverse("archive:delete", args=[keep.pk]), {"reason": "x"}, follow=True)
    assert "within its retention period" in response.content.decode()
    client.force_login(users["sales"])
    assert client.post(reverse("archive:delete", args=[keep.pk]), {"reason": "x"}).status_code == 403


def test_retention_policies_page(client, users):
    url = reverse("archive:policies")
    for role in ("legal", "auditor", "sales"):
        client.force_login(users[role])
        assert client.get(url).status_code == 403
    client.force_login(users["admin"])
    response = client.get(url)
    assert response.status_code == 200 and 'data-testid="policy-joint_venture"' in response.content.decode()
    lease = RetentionPolicy.objects.get(nature="lease")
    bad = client.post(url, {"policy": lease.pk, f"p{lease.pk}-retention_years": "0",
                            f"p{lease.pk}-description": "x"})
    assert bad.status_code == 400
    ok = client.post(url, {"policy": lease.pk, f"p{lease.pk}-retention_years": "15",
                           f"p{lease.pk}-description": "租赁十五年"})
    assert ok.status_code == 302
    assert RetentionPolicy.objects.get(nature="lease").retention_years == 15
    assert AuditEvent.objects.filter(action="retention_policy.updated").count() == 1


# --- version compare --------------------------------------------------------------------------------

def make_document(contract, user, texts: list[str | None]) -> tuple[Document, list[DocumentVersion]]:
    document = Document.objects.create(contract=contract, customer=contract.customer, title="采购合同.docx",
                                       created_by=user)
    versions = []
    for number, text in enumerate(texts, start=1):
        version = DocumentVersion.objects.create(
            document=document, number=number, filename=f"采购合同-v{number}.docx", file_type="docx",
            content_type="application/octet-stream", size=1, sha256="0" * 64,
            blob_name=f"blobs/test/{uuid.uuid4().hex}", key_id="k", wrapped_key=b"x", uploaded_by=user,
            extraction_status="done" if text is not None else "queued")
        if text is not None:
            DocumentText.objects.create(version=version, text=text)
        versions.append(version)
    document.current_version = versions[-1]
    document.save()
    return document, versions


def test_compare_two_versions(client, users, pair):
    keep, _gone = pair
    document, (v1, v2) = make_document(keep, users["sales"], ["第一条 甲方应于三十日内付款。\n<b>附件</b>",
                                                              "第一条 甲方应于收到发票后三十日内付款。\n<b>附件</b>"])
    url = reverse("archive:compare", args=[document.pk])
    client.force_login(users["sales2"])
    response = client.get(url)  # default: the current version against the one before
    assert response.status_code == 200
    body = response.content.decode()
    assert "<ins>收到发票后</ins>" in body and "&lt;b&gt;附件&lt;/b&gt;" in body and "<b>附件" not in body
    event = AuditEvent.objects.get(action="document.compared")
    assert event.kind == "access" and event.contract_id == keep.pk and event.changes == {"versions": [1, 2]}
    swapped = client.get(url, {"a": v2.pk, "b": v1.pk}).content.decode()
    assert "<del>收到发票后</del>" in swapped


def test_compare_visibility_and_bad_input(client, users, pair):
    keep, gone = pair
    document, (v1, v2) = make_document(keep, users["sales"], ["甲", "乙"])
    other_document, (o1, _o2) = make_document(gone, users["sales"], ["丙", "丁"])
    url = reverse("archive:compare", args=[document.pk])
    client.force_login(users["sales_b"])
    assert client.get(url).status_code == 404
    client.force_login(users["legal"])
    assert client.get(url).status_code == 200
    assert client.get(url, {"a": o1.pk, "b": v2.pk}).status_code == 404
    assert client.get(url, {"a": "x"}).status_code == 404
    contract_delete(actor=users["sales"], contract=gone, reason="x")
    assert client.get(reverse("archive:compare", args=[other_document.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="document.compared", contract_id=gone.pk).exists()


def test_compare_without_text_or_second_version(client, users, pair):
    keep, _gone = pair
    client.force_login(users["sales"])
    single, _ = make_document(keep, users["sales"], ["只有一个版本"])
    assert 'data-testid="compare-empty"' in client.get(reverse("archive:compare", args=[single.pk])).content.decode()
    pending, _ = make_document(keep, users["sales"], ["旧版本", None])
    body = client.get(reverse("archive:compare", args=[pending.pk])).content.decode()
    assert 'data-testid="compare-missing"' in body
    assert not AuditEvent.objects.filter(action="document.compared").exists()
