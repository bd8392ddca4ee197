"""Long texts are indexed in overlapping chunks plus one whole entry: the words of an AND query are
matched anywhere in the same document, a phrase (or a CJK word of several bigrams) as adjacent text,
across chunk borders too. Every answer is compared with SQL LIKE over the texts the user may see."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q

from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents.models import Document
from qiyue.search import selectors
from qiyue.search.indexing import CHUNK_CHARS, WHOLE_CHUNK, chunk_spans, index
from qiyue.search.models import SearchEntry
from qiyue.search.rebuild import reindex_all
from qiyue.search.selectors import search

from .corpus import add_version, make_document

pytestmark = pytest.mark.django_db

FILLER = "甲乙丙丁戊己庚辛"  # none of the query words' characters


def filler(n: int) -> str:
    return (FILLER * (n // len(FILLER) + 1))[:n]


@pytest.fixture
def library(users):
    """Documents of sales (team A) and one of sales_b (team B), on contracts of different status
    and nature; most are long enough to be chunked."""
    owner, other = users["sales"], users["sales_b"]
    service = make_contract(owner, title="服务协议", nature="service")
    purchase = make_contract(owner, title="采购协议", nature="purchase")
    Contract.objects.filter(pk=purchase.pk).update(status="active")
    theirs = make_contract(other, title="租赁协议", nature="lease")
    border = CHUNK_CHARS - 3  # "飞鹭达星澜" starts 3 characters before the first chunk's end
    docs = {
        # The issue's case: 8,135 characters, 北京 at the start, 违约金 near the end.
        "far": make_document(owner=owner, contract=service, title="far.docx",
                             text="北京" + filler(8000) + "违约金" + filler(130)),
        "near": make_document(owner=owner, contract=purchase, title="near.docx", text="北京的违约金条款"),
        # Both bigrams of 违约金 (违约, 约金) and 北京, but never 违约金: not found by 违约金.
        "split": make_document(owner=owner, contract=service, title="split.docx",
                               text="违约" + filler(5000) + "约金" + filler(5000) + "北京"),
        "border": make_document(owner=owner, contract=purchase, title="border.docx",
                                text=filler(border) + "飞鹭达星澜" + filler(6000) + "北京"),
        "beijing_only": make_document(owner=owner, contract=service, title="only.docx",
                                      text="北京" + filler(9000) + "北京"),
        # Both words in every chunk: found once.
        "everywhere": make_document(owner=owner, contract=purchase, title="every.docx",
                                    text=("北京违约金" + filler(1500)) * 8),
        "theirs": make_document(owner=other, contract=theirs, title="theirs.docx",
                                text="违约金" + filler(9000) + "北京"),
    }
    reindex_all()
    return docs


def like(user_docs, words, **filters) -> set[tuple[str, int]]:
    """The documents whose title or current text holds every word (SQL LIKE), among `user_docs`."""
    qs = Document.objects.filter(pk__in=[d.pk for d in user_docs], **filters)
    for word in words:
        qs = qs.filter(Q(title__contains=word) | Q(current_version__text__text__contains=word))
    return {("document", pk) for pk in qs.values_list("pk", flat=True)}


def hits(user, q, **filters) -> set[tuple[str, int]]:
    result = search(user=user, q=q, filters=filters, limit=100)
    found = [(h.kind, h.object.pk) for h in result.hits]
    assert len(found) == len(set(found)), f"{q}: an object listed twice"
    assert result.count == len(found) and not result.count_capped, q
    return set(found)


def visible_docs(library, role):
    return [d for name, d in library.items() if (name == "theirs") == (role == "sales_b") or role == "admin"]


def test_the_documents_are_chunked(library):
    for name in ("far", "split", "border", "beijing_only", "everywhere", "theirs"):
        text = library[name].current_version.text.text
        assert len(chunk_spans(text)) > 1, name
        assert SearchEntry.objects.filter(kind="document", object_id=library[name].pk, chunk=WHOLE_CHUNK).count() == 1
    assert len(library["far"].current_version.text.text) == 8135
    assert not SearchEntry.objects.filter(kind="document", object_id=library["near"].pk, chunk=WHOLE_CHUNK).exists()


QUERIES = [
    "北京 违约金",            # far apart: chunk 0 and chunk 2
    "违约金 北京",
    "北京 违约",              # two words of one token each
    "违约 约金",
    "违约金 违约 约金",        # the split document: found by its whole entry, dropped by its chunks
    "北京 飞鹭达星澜",         # a word crossing the first chunk's border, and one far from it
    '"飞鹭达星澜" 北京',
    "飞鹭达星澜",
    "达星 北京 违约金",        # absent together: nothing
    "京",                     # a single character (a prefix)
    "北 金",                  # two single characters
    "违约金",
    "北京 违约金 星澜",
    "不存在 北京",
]


@pytest.mark.parametrize("scan_rows", [20_000, 0])  # 0: every word checked by looking up the chunks
@pytest.mark.parametrize("role", ["sales", "sales_b", "admin"])
def test_and_phrases_and_single_characters_equal_like(library, users, role, scan_rows, monkeypatch):
    monkeypatch.setattr(selectors, "PHRASE_SCAN_ROWS", scan_rows)
    docs = visible_docs(library, role)
    for q in QUERIES:
        words = [w.strip('"') for w in q.split()]
        assert hits(users[role], q) == like(docs, words), (role, q)


def test_the_issue_case(library, users):
    owner = users["sales"]
    found = hits(owner, "北京 违约金")
    assert ("document", library["far"].pk) in found
    assert ("document", library["split"].pk) not in found and ("document", library["beijing_only"].pk) not in found
    assert ("document", library["theirs"].pk) not in found  # another team's
    assert found == {("document", library[n].pk) for n in ("far", "near", "everywhere")}
    assert hits(owner, "北京 飞鹭达星澜") == {("document", library["border"].pk)}
    # The snippet of a document matched by its whole text comes from a chunk that holds a word.
    hit = next(h for h in search(user=owner, q="北京 违约金").hits if h.object.pk == library["far"].pk)
    assert "<mark>" in hit.snippet


@pytest.mark.parametrize("filters,lookup", [
    ({"nature": ["service"]}, {"contract__nature": "service"}),
    ({"status": ["active"]}, {"contract__status": "active"}),
    ({"status": ["draft"], "nature": ["service", "purchase"]}, {"contract__status": "draft"}),
])
def test_filtered_searches_equal_like(library, users, filters, lookup):
    docs = visible_docs(library, "sales")
    for q in ("北京 违约金", "京", "北京 飞鹭达星澜", "违约 约金", "违约金"):
        words = q.split()
        expected = like(docs, words, **lookup)
        assert hits(users["sales"], q, type=["document"], **filters) == expected, (filters, q)
        # Without the kind filter the contracts' own texts are searched too: none holds these words.
        assert hits(users["sales"], q, **filters) == expected, (filters, q)


def test_pages_list_each_document_once(library, users):
    owner = users["sales"]
    first = search(user=owner, q="北京 违约金", limit=2)
    second = search(user=owner, q="北京 违约金", limit=2, offset=2)
    keys = [h.object.pk for h in first.hits + second.hits]
    assert len(keys) == 3 and len(set(keys)) == 3 and first.count == 3


def fulltext_ids(match_sqlite: str, match_postgres: str) -> set[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT entry_id FROM search_tsv WHERE tsv @@ %s::tsquery", [match_postgres])
        else:
            cursor.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [match_sqlite])
        return {row[0] for row in cursor.fetchall()}


def test_an_edited_document_is_found_by_its_new_text_only(library, users):
    owner = users["sales"]
    far = library["far"]
    old_whole = SearchEntry.objects.get(kind="document", object_id=far.pk, chunk=WHOLE_CHUNK).pk
    assert old_whole in fulltext_ids('"违约" AND "_w"', "'违约' & '_w'")
    far.current_version = add_version(far, owner=owner, text="上海" + filler(9000) + "赔偿金" + filler(100))
    far.save(update_fields=["current_version"])
    index("document", [far.pk])
    assert SearchEntry.objects.filter(kind="document", object_id=far.pk, chunk=WHOLE_CHUNK).count() == 1
    assert ("document", far.pk) not in hits(owner, "北京 违约金")
    assert hits(owner, "上海 赔偿金") == {("document", far.pk)}
    # Made short: the whole entry goes.
    far.current_version = add_version(far, owner=owner, text="北京 违约金")
    far.save(update_fields=["current_version"])
    index("document", [far.pk])
    assert not SearchEntry.objects.filter(kind="document", object_id=far.pk, chunk=WHOLE_CHUNK).exists()
    assert ("document", far.pk) in hits(owner, "北京 违约金") and hits(owner, "上海 赔偿金") == set()
    # The full-text rows of the deleted entries are gone with them (SQLite's contentless index
    # deletes by the stream re-derived from the rows: a whole entry's from its chunks).
    live = set(SearchEntry.objects.values_list("pk", flat=True))
    assert old_whole not in live and old_whole not in fulltext_ids('"违约" AND "_w"', "'违约' & '_w'")
    assert fulltext_ids('"_w"', "'_w'") == set(SearchEntry.objects.filter(chunk=WHOLE_CHUNK).values_list("pk", flat=True))
    assert fulltext_ids('"北京" OR "上海" OR "甲乙"', "'北京' | '上海' | '甲乙'") <= live


def test_the_reindex_command_writes_whole_entries(library, users):
    SearchEntry.objects.filter(chunk=WHOLE_CHUNK).delete()  # an index from before whole entries
    call_command("reindex", verbosity=0)
    assert SearchEntry.objects.filter(chunk=WHOLE_CHUNK).count() == 6
    assert ("document", library["far"].pk) in hits(users["sales"], "北京 违约金")


def test_a_count_over_the_cap_and_its_pages(library, users, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    monkeypatch.setattr(selectors, "MAX_OFFSET", 2)
    result = search(user=users["sales"], q="北京 违约金", limit=1)
    assert result.count == 2 and result.count_capped and not result.ranked
    # Newest first: "everywhere" was created after "near" and "far".
    assert [h.object.pk for h in result.hits] == [library["everywhere"].pk]
    second = search(user=users["sales"], q="北京 违约金", limit=1, offset=1).hits
    assert [h.object.pk for h in second] == [library["near"].pk]
