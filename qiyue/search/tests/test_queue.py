"""Indexing is queued after commit and done by the worker, never inside the request: a contract's
status change re-keys the entries of all its documents, which must not cost the user's request.
These tests queue to the database task backend as in production (the rest of the suite indexes at
commit, see conftest.py)."""

import signal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from qiyue.contracts.services import contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.search import tasks
from qiyue.search.indexing import index
from qiyue.search.models import SearchEntry
from qiyue.search.selectors import search

from .corpus import make_document

pytestmark = pytest.mark.django_db

INDEX_TASK = "qiyue.search.tasks.index_objects"


@pytest.fixture
def queued_indexing(monkeypatch):
    """The indexing task on the database backend, run by `qiyue worker`."""
    monkeypatch.setattr(tasks, "index_objects", tasks.index_objects.using(backend="default"))


@pytest.fixture
def worker():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield lambda: call_command("worker", "--batch", verbosity=0)
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def queued() -> list:
    return [r.args_kwargs["args"] for r in DBTaskResult.objects.filter(task_path=INDEX_TASK).order_by("enqueued_at")]


def found(user, q, **filters):
    return {(h.kind, h.object.pk) for h in search(user=user, q=q, filters=filters).hits}


@pytest.fixture
def contract_with_documents(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(users["sales"], title="设备采购合同")
    documents = [make_document(owner=users["sales"], contract=contract, text=f"第{n}份附件 验收标准") for n in range(3)]
    index("document", [d.pk for d in documents])
    return contract, documents


@pytest.mark.django_db(transaction=True)  # the worker closes its connections between tasks
def test_a_status_change_queues_indexing_and_leaves_the_index_to_the_worker(
        client, users, contract_with_documents, queued_indexing, worker, django_capture_on_commit_callbacks):
    contract, documents = contract_with_documents
    before = set(SearchEntry.objects.values_list("pk", flat=True))
    client.force_login(users["sales"])
    with CaptureQueriesContext(connection) as request_queries:
        with django_capture_on_commit_callbacks(execute=True):  # what runs at commit runs in the request too
            response = client.post(reverse("contracts:transition", args=[contract.pk, "submit"]),
                                   {"submit-version": contract.version})
    assert response.status_code == 302
    touched = [q["sql"] for q in request_queries.captured_queries
               if SearchEntry._meta.db_table in q["sql"] or "search_fts" in q["sql"] or "search_tsv" in q["sql"]]
    assert touched == []  # neither the contract's entry nor its documents' were rewritten in the request
    assert queued() == [["contract", [contract.pk]]]
    assert set(SearchEntry.objects.values_list("pk", flat=True)) == before
    assert found(users["sales"], "验收标准", status=["in_review"]) == set()  # not yet

    worker()
    assert DBTaskResult.objects.get(task_path=INDEX_TASK).status == "SUCCESSFUL"
    assert found(users["sales"], "验收标准", status=["in_review"]) == {("document", d.pk) for d in documents}
    assert found(users["sales"], "设备采购", status=["in_review"]) == {("contract", contract.pk)}
    assert found(users["sales"], "验收标准", status=["draft"]) == set()


def test_each_object_is_queued_once_per_transaction_and_not_at_all_on_rollback(
        users, contract_with_documents, queued_indexing, django_capture_on_commit_callbacks):
    contract, _documents = contract_with_documents
    with django_capture_on_commit_callbacks(execute=True):
        contract = contract_update(actor=users["sales"], contract=contract, data={"title": "设备采购合同（一）"},
                                   expected_version=contract.version)
        contract = contract_update(actor=users["sales"], contract=contract, data={"title": "设备采购合同（二）"},
                                   expected_version=contract.version)
    assert queued() == [["contract", [contract.pk]]]

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort):
        with transaction.atomic():
            contract_update(actor=users["sales"], contract=contract, data={"title": "作废"},
                            expected_version=contract.version)
            raise Abort
    assert queued() == [["contract", [contract.pk]]]
