"""The recall check's two ways of finding candidates (bench/recall.py) count alike: one `LIKE` query per
word and query, or one scan of every visible text. On the benchmark's own data (long documents, rare
terms, older versions), with a deleted contract's document, a customer's own document and another
team's contract among them, for a user who sees all and for a manager."""

import pytest
from django.db import connection

from bench.generate import generate
from bench.queries import Query, query_lists
from bench.recall import CAP, check_recall, default_method, expected_count, expected_counts
from bench.search_data import generate_documents
from qiyue.contracts.models import Contract
from qiyue.documents.models import Document, DocumentText, DocumentVersion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data():
    facts = generate(contracts=300, seed=7)
    generate_documents(documents=60, long_share=0.5, versions_share=0.3)
    # A document on a contract that is then deleted, and one on a customer alone.
    first = Document.objects.filter(contract__isnull=False).order_by("pk").first()
    Contract.objects.filter(pk=first.contract_id).update(deleted_at="2026-01-01T00:00:00Z")
    other = Document.objects.filter(contract__isnull=False).exclude(pk=first.pk).order_by("pk").first()
    Document.objects.filter(pk=other.pk).update(contract=None)
    version = DocumentVersion.objects.get(pk=other.current_version_id)
    DocumentText.objects.filter(version=version).update(text=f"客户自有文件 {DocumentText.objects.get(version=version).text}")
    return facts, first, other


def test_scan_and_like_count_alike_for_every_class_and_user(data):
    facts, deleted_on, customer_doc = data
    users = {"legal": facts["legal"], "mgr": facts["manager"]}
    queries = [q for qs in query_lists(per_class=4).values() for q in qs if q.page == 1]
    deleted_word = DocumentText.objects.get(version_id=deleted_on.current_version_id).text[:6]
    queries += [Query("extra", "客户自有文件"), Query("extra", deleted_word),
                Query("extra", "客户自有文件", {"status": "active"}), Query("extra", "合同", {"nature": ["sales", "lease"]}),
                Query("extra", '"no such phrase anywhere"'), Query("extra", "  ")]
    scanned = expected_counts(users, queries)
    liked = {(label, i): expected_count(user, q.q, q.filters)
             for label, user in users.items() for i, q in enumerate(queries)}
    assert scanned == liked
    counts = list(scanned.values())
    assert CAP in counts or max(counts) > 50  # frequent words counted far
    assert 0 in counts and any(0 < c < 10 for c in counts)
    # The customer's own document is seen by legal; a filtered search does not find it.
    own = queries.index(Query("extra", "客户自有文件"))
    assert scanned["legal", own] >= 1 and scanned["legal", own + 2] == 0


def test_check_recall_reports_a_count_that_differs_whichever_the_method(data):
    facts, _deleted, _customer_doc = data
    users = {"legal": facts["legal"]}
    queries = [Query("extra", "客户自有文件"), Query("extra", "zzzzqqqq")]
    lines = []
    for method in ("like", "scan"):
        failures = check_recall(users, queries, lambda label, params: {"count": 0, "count_capped": False},
                                out=lines.append, method=method)
        assert [f["q"] for f in failures] == ["客户自有文件"]
    assert any("RECALL MISMATCH [extra] user=legal q='客户自有文件'" in line for line in lines)
    with pytest.raises(ValueError, match="unknown recall method"):
        check_recall(users, queries, lambda label, params: {}, method="guess")


def test_postgresql_scans_and_sqlite_asks_like_by_default():
    assert default_method() == ("scan" if connection.vendor == "postgresql" else "like")
