"""PostgreSQL: search_tsv is partitioned by ranges of entry ids (qiyue/search/partitions.py). Writers
create the ranges as ids reach them; a search counts in the newest range first and pages through the
ranges newest first, and finds exactly what one table would; the rebuild writes a partitioned table
whose every range has its indexes; migration 0007 converts an empty index and queues a rebuild for a
full one, which is searched and written as before meanwhile."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Q

from qiyue.contracts.tests.factories import make_contract
from qiyue.search import partitions, tasks
from qiyue.search.indexing import ENTRY_TABLE, WHOLE_CHUNK, index
from qiyue.search.models import SearchEntry
from qiyue.search.rebuild import rebuild
from qiyue.search.selectors import COUNT_CAP, _Query, query_phrases, search

from .corpus import make_document

migration = importlib.import_module("qiyue.search.migrations.0007_partitioned_vectors")

pytestmark = pytest.mark.django_db

WIDTH = partitions.PARTITION_IDS


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's FTS5 reads its lists newest first and stops early: nothing is partitioned")


def jump_ids_to(value: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [ENTRY_TABLE, value])


def next_boundary() -> int:
    with connection.cursor() as cursor:
        # Not injectable (bandit B608): the table name is a constant.
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {ENTRY_TABLE}")  # nosec B608
        return (cursor.fetchone()[0] // WIDTH + 1) * WIDTH


def ranges() -> list[str]:
    with connection.cursor() as cursor:
        return partitions.partitions(cursor)


@pytest.fixture
def spread(users, django_capture_on_commit_callbacks):
    """Twelve contracts holding 分区 whose entries stand in three ranges with an empty one between,
    and a long document holding it (chunks and a whole entry), oldest first."""
    owner = users["sales"]
    boundary = next_boundary()
    made = []
    for start, n in ((boundary - 3, 5), (boundary + WIDTH - 2, 4), (boundary + 3 * WIDTH + 10, 3)):
        jump_ids_to(start)
        with django_capture_on_commit_callbacks(execute=True):  # indexed at commit, as the worker would
            made += [make_contract(owner, title=f"分区样本 {len(made)}") for _ in range(n)]
    document = make_document(owner=owner, contract=made[0], text="分区 " + "条款内容" * 3000)
    index("document", [document.pk])
    return made, document


def objects_newest_first() -> list[tuple[str, int]]:
    rows = (SearchEntry.objects.filter(Q(title__contains="分区") | Q(text__contains="分区"))
            .exclude(chunk=WHOLE_CHUNK).values_list("kind", "object_id").order_by("-pk"))
    seen: list[tuple[str, int]] = []
    for key in rows:
        if key not in seen:
            seen.append(key)
    return seen


def test_writers_create_the_ranges_their_ids_reach_and_one_ahead(spread):
    boundary = min(SearchEntry.objects.filter(title__contains="分区").values_list("pk", flat=True)) // WIDTH
    names = set(ranges())
    for n in (boundary, boundary + 1, boundary + 3, boundary + 4):
        assert partitions.partition_name("search_tsv", n) in names
    top = max(SearchEntry.objects.values_list("pk", flat=True))
    assert partitions.partition_name("search_tsv", top // WIDTH + 1) in names  # the spare
    with connection.cursor() as cursor:
        for name in names:  # each range has its own GIN index and primary key
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [name])
            definitions = " ".join(row[0] for row in cursor.fetchall())
            assert "USING gin (tsv)" in definitions and "UNIQUE" in definitions, name


def test_ensure_adds_only_missing_ranges(spread):
    before = ranges()
    top = max(SearchEntry.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        partitions.ensure(cursor, top, top)
        assert ranges() == before
        partitions.ensure(cursor, top + 2 * WIDTH, top + 2 * WIDTH)
    added = set(ranges()) - set(before)
    assert added == {partitions.partition_name("search_tsv", (top + 2 * WIDTH) // WIDTH + k) for k in (0, 1)} - set(before)


@pytest.mark.parametrize("cap", [1, 3, 5, 9, 12, 13, 14, 40])
def test_counting_over_ranges_stops_at_the_cap_and_is_exact_below(spread, cap):
    expected = objects_newest_first()
    assert len(expected) == 13
    query = _Query(query_phrases("分区"), [], [])
    assert len(query.count_ranges()) == 2 and len(query.page_ranges()) >= 4
    assert query.count(cap) == min(cap, len(expected))


@pytest.mark.parametrize("wanted", [1, 4, 6, 10, 13, 20])
def test_pages_run_newest_first_across_ranges(spread, wanted):
    expected = objects_newest_first()
    rows = _Query(query_phrases("分区"), [], []).first_objects(ranked=False, wanted=wanted)
    assert [(kind, object_id) for _id, kind, object_id in rows] == expected[:wanted]


def test_a_search_over_ranges_finds_what_one_table_finds(spread, users):
    made, document = spread
    results = search(user=users["admin"], q="分区", limit=20)
    assert results.count == 13 and not results.count_capped
    assert {(h.kind, h.id) for h in results.hits} == set(objects_newest_first())
    # A phrase (candidates from the index, checked exactly) and a word only the long document holds.
    assert [h.id for h in search(user=users["admin"], q='"内容条款"').hits] == [document.pk]
    assert {h.id for h in search(user=users["admin"], q="条款内容 分区").hits} == {document.pk}
    assert COUNT_CAP >= 13


def test_the_rebuild_writes_a_partitioned_table_with_live_names(spread, users):
    expected = search(user=users["admin"], q="分区", limit=20)
    rebuild()
    names = ranges()
    assert names and not any("_next" in name for name in names)
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor)
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", [names])
        indexes = [row[0] for row in cursor.fetchall()]
    assert len(indexes) == 2 * len(names) and not any("_next" in name for name in indexes)
    again = search(user=users["admin"], q="分区", limit=20)
    assert again.count == expected.count
    assert [(h.kind, h.id) for h in again.hits] == [(h.kind, h.id) for h in expected.hits]


def make_plain(*, rows: bool) -> None:
    """search_tsv as one table, as before migration 0007 (in the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE search_tsv_plain (LIKE search_tsv INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        if rows:
            cursor.execute("INSERT INTO search_tsv_plain SELECT * FROM search_tsv")
        else:
            # Not injectable (bandit B608): the table name is a constant.
            cursor.execute(f"DELETE FROM {ENTRY_TABLE}")  # nosec B608
        cursor.execute("DROP TABLE search_tsv")
        cursor.execute("ALTER TABLE search_tsv_plain RENAME TO search_tsv")
        cursor.execute("ALTER TABLE search_tsv ADD PRIMARY KEY (entry_id)")
        cursor.execute("CREATE INDEX search_tsv_gin ON search_tsv USING gin (tsv)")


def test_the_migration_partitions_an_empty_index(users, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_rebuild", lambda: queued.append(True))
    make_plain(rows=False)
    migration.partition(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor)
    assert queued == [] and migration.PARTITION_IDS == partitions.PARTITION_IDS
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(users["sales"], title="迁移之后")
    assert [h.id for h in search(user=users["admin"], q="迁移之后").hits] == [contract.pk]


def test_a_full_index_stays_one_table_until_the_rebuild(spread, users, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_rebuild", lambda: queued.append(True))
    expected = objects_newest_first()
    make_plain(rows=True)
    migration.partition(apps, SimpleNamespace(connection=connection))
    assert queued == [True]
    with connection.cursor() as cursor:
        assert not partitions.is_partitioned(cursor)
    # Searched and written as before meanwhile.
    query = _Query(query_phrases("分区"), [], [])
    assert query.count_ranges() == query.page_ranges() and len(query.count_ranges()) == 1
    rows = query.first_objects(ranked=False, wanted=20)
    assert [(kind, object_id) for _id, kind, object_id in rows] == expected
    with django_capture_on_commit_callbacks(execute=True):
        added = make_contract(users["sales"], title="分区 之后")
    assert search(user=users["admin"], q="分区").count == 14
    rebuild()
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor)
    assert search(user=users["admin"], q="分区").hits[0].id == added.pk


def test_a_search_that_read_the_ranges_before_a_rebuild_switched_finds_everything(spread):
    """The ranges are open at both ends: a search that read the table's ids just before a rebuild's
    switch (whose new ids are all higher) still counts and pages through every hit."""
    expected = objects_newest_first()
    query = _Query(query_phrases("分区"), [], [])
    query.count_ranges()  # the shape is read now
    rebuild()
    assert query.count(40) == len(expected)
    rows = query.first_objects(ranked=False, wanted=20)
    assert [(kind, object_id) for _id, kind, object_id in rows] == objects_newest_first()
