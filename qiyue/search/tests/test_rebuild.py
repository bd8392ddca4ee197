"""`qiyue reindex` builds the new index beside the live one and switches at the end: every search
made while it runs finds everything, changes made meanwhile are in the new index, the tables it
leaves are shaped like the ones it replaced, and a failed rebuild leaves the live index as it was."""

import random
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection

from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.search import rebuild as rebuild_module
from qiyue.search.indexing import FORMAT, WHOLE_CHUNK, index, read_state
from qiyue.search.models import IndexState, PendingChange, SearchEntry
from qiyue.search.rebuild import RebuildRunning, rebuild
from qiyue.search.selectors import search

from .corpus import make_document, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(users):
    """Contracts and documents (a third of them long enough to be chunked) that all hold 契约 and
    a word of their own."""
    rng = random.Random(5)
    owner = users["sales"]
    contracts = [make_contract(owner, title=f"契约样本{n} 编号{n:03d}") for n in range(12)]
    documents = []
    for n, contract in enumerate(contracts):
        size = 9000 if n % 3 == 0 else 600
        documents.append(make_document(owner=owner, contract=contract, title=f"doc{n}.docx",
                                       text=f"契约 word{n:03d} " + text_of(rng, size)))
    rebuild()
    return contracts, documents


def counts(user) -> tuple[int, int, int]:
    """Documents and contracts found by 契约, by a single character, and by one word of one document."""
    return (search(user=user, q="契约", limit=50).count, search(user=user, q="契", limit=50).count,
            search(user=user, q="word007", limit=5).count)


def table_shape() -> tuple:
    """What the schema says about the index's tables: columns, indexes, constraints."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename IN "
                           "('search_searchentry', 'search_tsv') ORDER BY 1, 2")
            indexes = cursor.fetchall()
            cursor.execute("SELECT table_name, column_name, data_type, is_nullable, is_identity FROM "
                           "information_schema.columns WHERE table_name IN ('search_searchentry', 'search_tsv') "
                           "ORDER BY 1, 2")
            columns = cursor.fetchall()
            cursor.execute("SELECT conrelid::regclass::text, conname, contype FROM pg_constraint WHERE conrelid IN "
                           "('search_searchentry'::regclass, 'search_tsv'::regclass) ORDER BY 1, 2")
            return indexes, columns, cursor.fetchall()
        cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN "
                       "('search_searchentry', 'search_fts') AND name NOT LIKE 'search_fts_%' ORDER BY 1, 2")
        return tuple(cursor.fetchall())


def test_search_is_complete_at_every_step_of_a_rebuild(users, shelf, monkeypatch):
    """Between every two batches the rebuild writes (here one object per batch), searches answer
    from the live index as before the rebuild began."""
    user = users["admin"]
    expected = counts(user)
    assert expected == (24, 24, 1)
    seen = []
    write = rebuild_module._write

    def write_then_search(*args):
        write(*args)
        seen.append(counts(user))

    monkeypatch.setattr(rebuild_module, "_write", write_then_search)
    rebuild(batch=1)
    assert len(seen) >= 24 and set(seen) == {expected}
    assert counts(user) == expected


def test_changes_made_during_a_rebuild_are_in_the_new_index(users, shelf, monkeypatch):
    """An object changed, added or deleted while the rebuild runs (after the rebuild read it, or
    before) ends up indexed as it is now: the live index follows at once, the new one catches up."""
    contracts, documents = shelf
    user = users["admin"]
    steps = []
    write = rebuild_module._write

    def write_and_change(*args):
        write(*args)
        steps.append(1)
        if len(steps) == 2:
            # Read by the rebuild already (the oldest first): renamed, and one deleted.
            Contract.objects.filter(pk=contracts[0].pk).update(title="改名为麒麟合同")
            index("contract", [contracts[0].pk])
            documents[1].deleted_at = documents[1].created_at
            documents[1].save(update_fields=["deleted_at"])
            index("document", [documents[1].pk])
            # New: the rebuild may or may not read it.
            steps.append(make_contract(users["sales"], title="新增麒麟协议"))
            index("contract", [steps[-1].pk])  # the worker's task at commit (the test runs in a transaction)
            assert PendingChange.objects.exists()
            assert search(user=user, q="麒麟").count == 2  # the live index follows at once

    monkeypatch.setattr(rebuild_module, "_write", write_and_change)
    rebuild(batch=1)
    assert not PendingChange.objects.exists()
    assert read_state() == (FORMAT, False)
    assert {h.object.pk for h in search(user=user, q="麒麟").hits} == {contracts[0].pk, steps[2].pk}
    assert search(user=user, q="word001").count == 0
    # Each object once: no entry of the old state survived the catch-up.
    assert SearchEntry.objects.filter(kind="contract", object_id=contracts[0].pk).count() == 1
    assert search(user=user, q="契约", limit=50).count == 22


def leftover_tables() -> list[str]:
    with connection.cursor() as cursor:
        return [t for t in connection.introspection.table_names(cursor) if "_next" in t or "_old" in t]


def test_the_new_tables_are_shaped_like_the_old_and_ids_keep_growing(users, shelf):
    shape = table_shape()
    top = SearchEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    timings = {}
    rebuild(timings=timings)
    assert table_shape() == shape and not leftover_tables()
    assert set(timings) == {"fill", "index", "switch", "catch_up", "drop_old"}
    assert SearchEntry.objects.order_by("pk").values_list("pk", flat=True).first() > top
    # Indexing after the switch takes ids above the rebuild's (the newest change has the highest).
    rebuilt_top = SearchEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    contract = make_contract(users["sales"], title="之后的契约")
    index("contract", [contract.pk])
    assert SearchEntry.objects.get(kind="contract", object_id=contract.pk).pk > rebuilt_top
    # Long documents still have their chunks and one whole entry each.
    long_doc = shelf[1][0]
    chunks = list(SearchEntry.objects.filter(kind="document", object_id=long_doc.pk).values_list("chunk", flat=True))
    assert WHOLE_CHUNK in chunks and len(chunks) >= 4


def test_a_failed_rebuild_leaves_the_live_index_as_it_was(users, shelf, monkeypatch):
    user = users["admin"]
    expected = counts(user)
    entries = SearchEntry.objects.count()

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rebuild_module, "_index_next", broken)
    with pytest.raises(RuntimeError):
        rebuild()
    assert counts(user) == expected and SearchEntry.objects.count() == entries
    assert read_state() == (FORMAT, False) and not PendingChange.objects.exists()
    assert not leftover_tables()


def test_an_index_in_the_old_format_is_searched_as_it_was_until_the_rebuild(users, shelf):
    """Format 1 (no character tokens): one character is searched as a prefix; a rebuild writes and
    switches to the current format; the rows found are the same."""
    user = users["admin"]
    IndexState.objects.update_or_create(pk=1, defaults={"format": 1})
    # Written in format 1 throughout, as an index built before the upgrade.
    SearchEntry.objects.all().delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DELETE FROM search_tsv")
        else:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
    for kind in ("customer", "contract", "document"):
        model = {"customer": "customers.Customer", "contract": "contracts.Contract", "document": "documents.Document"}
        from django.apps import apps

        index(kind, apps.get_model(model[kind]).objects.values_list("pk", flat=True))
    before = {(h.kind, h.object.pk) for h in search(user=user, q="契", limit=50).hits}
    assert len(before) == 24
    # A change while in format 1 is written (and later deleted) in format 1: nothing breaks.
    Contract.objects.filter(pk=shelf[0][0].pk).update(title="契约 再次")
    index("contract", [shelf[0][0].pk])
    call_command("reindex", "--workers", "0", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert read_state()[0] == FORMAT
    assert {(h.kind, h.object.pk) for h in search(user=user, q="契", limit=50).hits} == before
    # The live index can be changed again (SQLite deletes an entry with the stream it was written with).
    index("contract", [shelf[0][0].pk])
    assert search(user=user, q="再次").count == 1


def test_the_command_uses_worker_processes(users, shelf):
    user = users["admin"]
    expected = counts(user)
    rebuild(workers=2, batch=3)
    assert counts(user) == expected


def test_two_rebuilds_never_run_at_once(users, shelf, monkeypatch, tmp_path):
    """SQLite: a lock file beside the database (PostgreSQL's advisory lock is per session: see the
    concurrent test below)."""
    if connection.vendor == "postgresql":
        pytest.skip("the advisory lock is per session: test_rebuild_beside_concurrent_searches")
    monkeypatch.setattr(rebuild_module, "_lock_path", lambda: str(tmp_path / "qiyue.sqlite3.reindex.lock"))
    inner = []
    fill = rebuild_module._fill

    def fill_and_try_again(*args, **kwargs):
        with pytest.raises(RebuildRunning):
            rebuild()
        inner.append(True)
        return fill(*args, **kwargs)

    monkeypatch.setattr(rebuild_module, "_fill", fill_and_try_again)
    rebuild()
    assert inner == [True]
    assert read_state() == (FORMAT, False)


@pytest.mark.django_db(transaction=True)
def test_rebuild_beside_concurrent_searches(users):
    """PostgreSQL, real concurrency: a second session searches without pause while the rebuild runs
    in worker processes; every answer is complete, and a second rebuild is refused meanwhile."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is one connection; see the step-by-step test above")
    rng = random.Random(9)
    owner = users["sales"]
    for n in range(30):
        contract = make_contract(owner, title=f"契约并发{n}")
        make_document(owner=owner, contract=contract, text="契约 " + text_of(rng, 6000 if n % 2 else 500))
    rebuild()
    user = users["admin"]
    expected = counts(user)
    answers, refused, started, done = [], [], threading.Event(), threading.Event()

    def searcher():
        from django.db import connection as own

        try:
            started.wait(30)
            while not done.is_set():
                answers.append(counts(user))
                try:
                    rebuild()
                except RebuildRunning:
                    refused.append(True)
                time.sleep(0.005)
        finally:
            own.close()

    monkeypatch_write = rebuild_module._write

    def slow_write(*args):
        monkeypatch_write(*args)
        started.set()  # the rebuild holds its lock from here on
        time.sleep(0.05)

    rebuild_module._write = slow_write
    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        rebuild(workers=1, batch=2)
    finally:
        done.set()
        thread.join()
        rebuild_module._write = monkeypatch_write
    assert len(answers) >= 5 and set(answers) == {expected}
    assert refused
    assert counts(user) == expected


def test_a_killed_rebuild_stops_counting_as_running(users, shelf):
    """A rebuild killed mid-way (SIGKILL: no clean-up) leaves its flag; once it has not touched the state
    for REBUILD_STALE, changes are no longer noted for it, and the next rebuild starts clean."""
    import datetime

    from django.utils import timezone

    from qiyue.search.indexing import REBUILD_STALE

    contract = shelf[0][0]
    IndexState.objects.filter(pk=1).update(rebuilding=True, touched_at=timezone.now())
    index("contract", [contract.pk])
    assert read_state()[1] and PendingChange.objects.count() == 1
    IndexState.objects.filter(pk=1).update(touched_at=timezone.now() - REBUILD_STALE - datetime.timedelta(seconds=1))
    index("contract", [contract.pk])
    assert not read_state()[1] and PendingChange.objects.count() == 1
    rebuild()
    assert read_state() == (FORMAT, False) and not PendingChange.objects.exists()
