"""The index follows changes: services queue their objects for indexing after commit (here the
indexing task runs at once, see conftest.py), and `qiyue reindex` rebuilds it."""

import io

import pytest
from django.core.management import call_command

from qiyue.contracts.services import contract_delete, contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.services import customer_update
from qiyue.customers.tests.factories import make_customer
from qiyue.search.indexing import index
from qiyue.search.models import SearchEntry
from qiyue.search.selectors import search

from .corpus import add_version, make_document

pytestmark = pytest.mark.django_db


def found(user, q):
    return {(h.kind, h.object.pk) for h in search(user=user, q=q).hits}


def test_a_new_contract_is_found_after_commit_only(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contract = make_contract(users["sales"], title="冷链运输服务合同")
    assert found(users["sales"], "冷链") == set()
    for callback in callbacks:
        callback()
    assert found(users["sales"], "冷链") == {("contract", contract.pk)}


def test_updates_replace_the_old_text(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(users["sales"], title="冷链运输服务合同")
    with django_capture_on_commit_callbacks(execute=True):
        contract_update(actor=users["sales"], contract=contract, data={"title": "仓储服务合同"},
                        expected_version=contract.version)
    assert found(users["sales"], "冷链") == set()
    assert found(users["sales"], "仓储") == {("contract", contract.pk)}
    assert SearchEntry.objects.filter(kind="contract", object_id=contract.pk).count() == 1


def test_a_renamed_customer_is_found_under_its_new_name_with_its_contracts(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(users["sales"], name="旧名字有限公司")
        contract = make_contract(users["sales"], customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=users["sales"], customer=customer, data={"name": "星澜新材料有限公司"},
                        expected_version=customer.version)
    assert found(users["sales"], "星澜") == {("customer", customer.pk), ("contract", contract.pk)}
    assert found(users["sales"], "旧名字") == set()


def extracted(document):
    """What the worker does once a document's text is extracted: index the document."""
    index("document", [document.pk])


def test_reassigning_a_contract_moves_its_documents_out_of_sight(users, django_capture_on_commit_callbacks):
    admin = users["admin"]
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(users["sales"], title="技术服务合同")
    document = make_document(owner=users["sales"], contract=contract, text="源代码托管 escrow 条款")
    extracted(document)
    assert found(users["sales"], "escrow") == {("document", document.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        contract_update(actor=admin, contract=contract,
                        data={"owner": users["sales_b"], "team": users["sales_b"].team},
                        expected_version=contract.version)
    assert found(users["sales"], "escrow") == set() and search(user=users["sales"], q="技术服务").count == 0
    assert found(users["sales_b"], "escrow") == {("document", document.pk)}


def test_document_text_follows_its_current_version(users, django_capture_on_commit_callbacks):
    owner = users["sales"]
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(owner)
    document = make_document(owner=owner, contract=contract, text="第一版 付款条件")
    assert found(owner, "付款条件") == set()  # not indexed before its text is extracted
    extracted(document)
    assert found(owner, "付款条件") == {("document", document.pk)}
    # A new version's text replaces the old one once it is current.
    version = add_version(document, owner=owner, text="第二版 交付条件")
    extracted(document)  # not current yet: the entries stay those of the current version
    assert found(owner, "付款条件") == {("document", document.pk)}
    document.current_version = version
    document.save(update_fields=["current_version"])
    index("document", [document.pk])
    assert found(owner, "付款条件") == set() and found(owner, "交付条件") == {("document", document.pk)}
    # A deleted document leaves the index.
    document.deleted_at = version.created_at
    document.save(update_fields=["deleted_at"])
    index("document", [document.pk])
    assert found(owner, "交付条件") == set()
    assert not SearchEntry.objects.filter(kind="document", object_id=document.pk).exists()


def test_a_document_of_a_customer_is_visible_like_the_customer(users):
    customer = make_customer(users["sales_b"])
    document = make_document(owner=users["sales_b"], customer=customer, text="营业执照 副本")
    extracted(document)
    assert found(users["sales_b"], "营业执照") == {("document", document.pk)}
    assert found(users["sales"], "营业执照") == set()
    hit = search(user=users["sales_b"], q="营业执照").hits[0]
    assert hit.url == f"/documents/{hit.object.pk}/"


def test_a_deleted_contract_leaves_the_index(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(users["sales"], title="待删除合同")
    assert found(users["admin"], "待删除") == {("contract", contract.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        contract_delete(actor=users["admin"], contract=contract, reason="录入错误")
    assert found(users["admin"], "待删除") == set()


def test_reindex_command_rebuilds_everything(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(users["sales"], title="年度框架协议")
    document = make_document(owner=users["sales"], contract=contract, text="框架协议 附件")
    SearchEntry.objects.all().delete()  # the index lost (the FTS rows stay orphaned, never shown)
    assert found(users["admin"], "框架") == set()
    out = io.StringIO()
    call_command("reindex", stdout=out)
    assert "Search index rebuilt" in out.getvalue()
    assert found(users["admin"], "框架") == {("contract", contract.pk), ("document", document.pk)}
    assert SearchEntry.objects.count() == 3  # contract, its customer, the document
    call_command("reindex", stdout=io.StringIO())
    assert search(user=users["admin"], q="框架").count == 2
