"""Rebuilding the whole search index beside the live one (`qiyue reindex`, and the worker after an
upgrade that changed the index's format).

Search stays complete while it runs: the new entries go into tables beside the live ones
(`search_searchentry_next` and `search_fts_next` / `search_tsv_next`), without secondary indexes
(built once at the end, which is linear, where maintaining them row by row is not); the live index
keeps serving and following changes. Objects indexed meanwhile are noted (PendingChange, see
indexing.replace_entries), because the rebuild may have read them before their change. At the end one
short transaction puts the new tables in the live ones' place, with the current format
(indexing.FORMAT); the noted objects are then indexed again. PostgreSQL drops the old tables in that
transaction (a drop is quick there); SQLite renames them aside and empties them a slice per transaction
afterwards, as no write transaction may hold its one write lock for long (a writer waits 20 s at most).

Cutting texts into chunks and tokens (the CPU work) runs in `workers` processes; this process reads
the objects in creation order (the newest get the highest ids) and writes the results in that order.
"""

import collections
import contextlib
import heapq
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterator

from django.db import connection, transaction

from qiyue.core.search_kinds import IndexRow, search_kinds

from . import partitions
from .indexing import (
    COLUMNS,
    ENTRY_TABLE,
    FORMAT,
    db_values,
    entries_of,
    entry_bodies,
    entry_tsvectors,
    index,
)
from .models import IndexState, PendingChange

NEXT = "_next"
ENTRY_NEXT = ENTRY_TABLE + NEXT
ENTRY_OLD = ENTRY_TABLE + "_old"
# SQLite: pages of FTS5 merging per transaction, and rows deleted per transaction when emptying a table.
MERGE_PAGES = 500
DROP_ROWS = 5000
FTS5_NEXT = ("CREATE VIRTUAL TABLE search_fts_next USING fts5(body, content='', tokenize=\"ascii tokenchars '_'\")")
# A batch handed to a worker process: at most this many objects or characters of text.
BATCH_CHARS = 2_000_000
# PostgreSQL: the session lock that keeps two rebuilds apart.
ADVISORY_LOCK = 0x51_59_55_45  # "QYUE"


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


def rebuild(*, batch: int = 2000, workers: int = 0, progress: Callable[[int, int], None] | None = None,
            timings: dict | None = None) -> int:
    """Rebuild the whole index beside the live one and switch to it; returns the number of entries.
    `workers`: processes that cut and tokenize texts (0: this process does it). `timings` receives
    the seconds of each step (fill, index, switch, catch_up, drop_old)."""
    postgres = connection.vendor == "postgresql"
    timings = {} if timings is None else timings
    with _exclusive(postgres):
        _drop_next(postgres)  # a killed rebuild's
        PendingChange.objects.all().delete()  # noted for it: indexed in the live index, read afresh below
        _create_next(postgres)
        _set_state(rebuilding=True)
        try:
            with _timed(timings, "fill"):
                total = _fill(postgres, batch=batch, workers=workers, progress=progress)
            with _timed(timings, "index"):
                _index_next(postgres)
            with _timed(timings, "switch"):
                _switch(postgres)
        except BaseException:
            _drop_next(postgres)
            _set_state(rebuilding=False)
            PendingChange.objects.all().delete()
            raise
        with _timed(timings, "catch_up"):
            total += _catch_up()
        with _timed(timings, "drop_old"):
            _after_switch(postgres)
        return total


@contextlib.contextmanager
def _timed(timings: dict, step: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = time.perf_counter() - start


# The name callers used before the rebuild moved beside the live index.
reindex_all = rebuild


# --- set-up ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _exclusive(postgres: bool):
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
            if not cursor.fetchone()[0]:
                raise RebuildRunning("another rebuild of the search index is running")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])
        return
    import fcntl

    path = _lock_path()
    if path is None:
        yield
        return
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RebuildRunning("another rebuild of the search index is running") from None
        yield


def _lock_path() -> str | None:
    """SQLite: the file beside the database that a rebuild locks (none for a database in memory)."""
    name = str(connection.settings_dict["NAME"])
    return None if name.startswith(":memory:") or "mode=memory" in name else f"{name}.reindex.lock"


def _set_state(**values) -> None:
    with transaction.atomic():
        IndexState.objects.update_or_create(pk=1, defaults=values)


def _drop_next(postgres: bool) -> None:
    """Drop the new tables (a failed or killed rebuild's); SQLite: and a killed switch's old tables."""
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS search_tsv{NEXT}, {ENTRY_NEXT}")
        return
    _drop_in_slices(ENTRY_NEXT, "search_fts_next")
    _drop_old()


def _drop_old() -> None:
    _drop_in_slices(ENTRY_OLD, "search_fts_old")


def _drop_in_slices(entries: str, fts: str) -> None:
    """SQLite: empty an entry table and an FTS5 table's big shadow tables a slice per transaction (each
    holds the write lock for a moment), then drop them."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    # FTS5 keeps its own records in _data's first rows (the averages at 1, the structure at 10): they
    # stay, so the table can still be opened to be dropped.
    for table, first in ((entries, 0), (f"{fts}_data", 10), (f"{fts}_docsize", 0)):
        while table in tables:
            with transaction.atomic(), connection.cursor() as cursor:
                # Not injectable (bandit B608): the table names are this module's constants.
                cursor.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} "  # nosec B608
                               f"WHERE rowid > {first} LIMIT {DROP_ROWS})")
                if cursor.rowcount < DROP_ROWS:
                    break
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {fts}")
        cursor.execute(f"DROP TABLE IF EXISTS {entries}")


def _create_next(postgres: bool) -> None:
    """The new tables, shaped like the live ones, without their secondary indexes."""
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"CREATE TABLE {ENTRY_NEXT} (LIKE {ENTRY_TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY "
                           f"INCLUDING CONSTRAINTS INCLUDING STORAGE)")
            partitions.create_partitioned(cursor, f"search_tsv{NEXT}")
            return
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [ENTRY_TABLE])
        ddl = cursor.fetchone()[0]
        cursor.execute(re.sub(rf'^CREATE TABLE "?{ENTRY_TABLE}"?', f'CREATE TABLE "{ENTRY_NEXT}"', ddl, count=1))
        cursor.execute(FTS5_NEXT)


# --- filling the new tables -----------------------------------------------------------------------

def _batches(batch: int) -> Iterator[list[IndexRow]]:
    """The rows of every live object of every kind, oldest first, in batches."""
    rows: list[IndexRow] = []
    chars = 0
    streams = (kind.stream(batch) for kind in search_kinds())
    for _created, object_rows in heapq.merge(*streams, key=lambda item: item[0]):
        rows.extend(object_rows)
        chars += sum(len(row.text) for row in object_rows)
        if len(rows) >= batch or chars >= BATCH_CHARS:
            yield rows
            rows, chars = [], 0
    if rows:
        yield rows


def prepare(rows: list[IndexRow], postgres: bool, fmt: int = FORMAT) -> tuple[int, list[tuple], list[str]]:
    """The entries of a batch of objects as database values, and their full-text rows (FTS5 bodies
    or tsvector literals): pure work, run in a worker process. Returns (objects, values, texts)."""
    entries = entries_of(rows, postgres=postgres)
    texts = entry_tsvectors(entries, fmt) if postgres else entry_bodies(entries, fmt)
    return len(rows), [db_values(e, not postgres) for e in entries], texts


def _first_id() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Not injectable (bandit B608): the table name is this module's constant.
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {ENTRY_TABLE}")  # nosec B608
        else:
            # Not injectable (bandit B608): the table name is this module's constant.
            cursor.execute(f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # nosec B608
                           f"coalesce((SELECT max(id) FROM {ENTRY_TABLE}), 0))", [ENTRY_TABLE])
        return cursor.fetchone()[0] + 1


def _write(postgres: bool, first: int, values: list[tuple], texts: list[str]) -> None:
    ids = range(first, first + len(values))
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            with cursor.cursor.copy(f"COPY {ENTRY_NEXT} (id, {', '.join(COLUMNS)}) FROM STDIN") as copy:
                for pk, row in zip(ids, values, strict=True):
                    copy.write_row((pk, *row))
            partitions.ensure(cursor, first, first + len(values) - 1, table=f"search_tsv{NEXT}")
            with cursor.cursor.copy(f"COPY search_tsv{NEXT} (entry_id, kind, object_id, tsv) FROM STDIN") as copy:
                for pk, row, tsv in zip(ids, values, texts, strict=True):
                    copy.write_row((pk, row[0], row[1], tsv))
            return
        marks = ", ".join(["?"] * (len(COLUMNS) + 1))
        raw = cursor.cursor  # the sqlite3 cursor: no placeholder translation for a million rows
        # Not injectable (bandit B608): the table and column names are constants, the values parameters.
        raw.executemany(f"INSERT INTO {ENTRY_NEXT} (id, {', '.join(COLUMNS)}) VALUES ({marks})",  # nosec B608
                        [(pk, *row) for pk, row in zip(ids, values, strict=True)])
        raw.executemany("INSERT INTO search_fts_next (rowid, body) VALUES (?, ?)", zip(ids, texts, strict=True))


def _fill(postgres: bool, *, batch: int, workers: int, progress) -> int:
    if postgres:
        with connection.cursor() as cursor:
            # Fresh statistics first: after a bulk load or a restore the planner may think a source
            # table is empty and scan all of it for every batch.
            cursor.execute("ANALYZE")
    next_id = _first_id()
    total = objects = reported = 0

    touched = time.monotonic()

    def write(result):
        nonlocal next_id, total, objects, reported, touched
        count, values, texts = result
        _write(postgres, next_id, values, texts)
        if time.monotonic() - touched > 5:  # still running: see indexing.REBUILD_STALE
            _set_state(rebuilding=True)
            touched = time.monotonic()
        next_id += len(values)
        total += len(values)
        objects += count
        if progress and objects - reported >= 50_000:
            reported = objects
            progress(objects, total)

    if workers <= 0:
        for rows in _batches(batch):
            write(prepare(rows, postgres))
    else:
        # Forked: the workers have the registered kinds without setting Django up again (a spawned
        # process would run the caller's main script first). They never touch the database, and
        # leave with os._exit, so the parent's connection is not closed by them. Fork from a
        # process without other threads (the command line): see tasks.rebuild_index.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            queue: collections.deque = collections.deque()
            for rows in _batches(batch):
                queue.append(pool.apply_async(prepare, (rows, postgres)))
                while len(queue) > 2 * workers:
                    write(queue.popleft().get())
            while queue:
                write(queue.popleft().get())
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [ENTRY_NEXT, max(next_id - 1, 1)])
    if progress:
        progress(objects, total)
    return total


def _live_indexes(postgres: bool, table: str) -> list[tuple[str, str]]:
    """(name, definition) of a live table's indexes other than its primary key."""
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                           "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                           "WHERE c.conname = i.indexname AND c.contype = 'p')", [table])
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                           "AND sql IS NOT NULL", [table])
        return cursor.fetchall()


def _index_next(postgres: bool) -> None:
    """PostgreSQL: primary keys and the indexes, under names of their own until the switch (SQLite's
    are built in the switch: it cannot rename an index), then fresh statistics. SQLite: the FTS5
    segments merged a slice at a time ('optimize' would hold the database's one write lock for as
    long as it takes: tens of seconds at a million contracts, past a writer's busy timeout)."""
    if not postgres:
        raw = connection.connection
        while True:
            before = raw.total_changes
            with transaction.atomic(), connection.cursor() as cursor:
                # A negative page count: merge every segment into one, as 'optimize' does, in slices.
                cursor.execute("INSERT INTO search_fts_next (search_fts_next, rank) VALUES ('merge', %s)",
                               [-MERGE_PAGES])
            if raw.total_changes - before < 2:  # nothing left to merge (the FTS5 documentation's test)
                return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {ENTRY_NEXT} ADD CONSTRAINT {ENTRY_NEXT}_pkey PRIMARY KEY (id)")
        cursor.execute(f"ALTER TABLE search_tsv{NEXT} ADD CONSTRAINT search_tsv{NEXT}_pkey PRIMARY KEY (entry_id)")
        for table in (ENTRY_TABLE, "search_tsv"):
            for name, definition in _live_indexes(True, table):
                cursor.execute(_retarget(definition, name, table))
        if not any(name == "search_tsv_gin" for name, _d in _live_indexes(True, "search_tsv")):
            cursor.execute("CREATE INDEX search_tsv_gin_next ON search_tsv_next USING gin (tsv) WITH (fastupdate = off)")
        cursor.execute(f"ANALYZE {ENTRY_NEXT}")
        cursor.execute(f"ANALYZE search_tsv{NEXT}")


def _retarget(definition: str, name: str, table: str) -> str:
    """A live index's definition for the new table, under its name + NEXT (on every partition of a
    partitioned table: PostgreSQL describes such an index as ON ONLY the parent)."""
    out = definition.replace(" ON ONLY ", " ON ", 1).replace(f"INDEX {name} ON", f"INDEX {name}{NEXT} ON", 1)
    return re.sub(rf"ON (\w+\.)?{table} ", lambda m: f"ON {m.group(1) or ''}{table}{NEXT} ", out, count=1)


# --- the switch -----------------------------------------------------------------------------------

def _switch(postgres: bool) -> None:
    """One transaction: the new tables take the live ones' names, the state the current format."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The state row first, as every indexing transaction takes it (indexing.read_state).
        IndexState.objects.select_for_update().filter(pk=1).exists()
        if postgres:
            entry_indexes = _live_indexes(True, ENTRY_TABLE)
            tsv_indexes = _live_indexes(True, "search_tsv")
            cursor.execute(f"LOCK TABLE {ENTRY_TABLE}, search_tsv IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"DROP TABLE search_tsv, {ENTRY_TABLE}")
            cursor.execute(f"ALTER TABLE {ENTRY_NEXT} RENAME TO {ENTRY_TABLE}")
            cursor.execute(f"ALTER TABLE search_tsv{NEXT} RENAME TO search_tsv")
            cursor.execute(f"ALTER TABLE {ENTRY_TABLE} RENAME CONSTRAINT {ENTRY_NEXT}_pkey TO {ENTRY_TABLE}_pkey")
            cursor.execute(f"ALTER TABLE search_tsv RENAME CONSTRAINT search_tsv{NEXT}_pkey TO search_tsv_pkey")
            names = {name for name, _d in entry_indexes + tsv_indexes} | {"search_tsv_gin"}
            for name in sorted(names):
                cursor.execute(f"ALTER INDEX IF EXISTS {name}{NEXT} RENAME TO {name}")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [ENTRY_TABLE])
            sequence = cursor.fetchone()[0]
            if sequence and sequence.split(".")[-1].strip('"') != f"{ENTRY_TABLE}_id_seq":
                cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {ENTRY_TABLE}_id_seq")
            _rename_partitions(cursor)
        else:
            # The live tables move aside (renaming is quick) and are emptied after the switch, a slice
            # per transaction: dropping a table frees its every page while holding the write lock.
            indexes = _live_indexes(False, ENTRY_TABLE)
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute(f"ALTER TABLE {ENTRY_TABLE} RENAME TO {ENTRY_OLD}")
            cursor.execute("ALTER TABLE search_fts RENAME TO search_fts_old")
            cursor.execute(f"ALTER TABLE {ENTRY_NEXT} RENAME TO {ENTRY_TABLE}")
            cursor.execute("ALTER TABLE search_fts_next RENAME TO search_fts")
            for _name, definition in indexes:
                cursor.execute(definition)
        IndexState.objects.update_or_create(pk=1, defaults={"format": FORMAT, "rebuilding": False})


def _rename_partitions(cursor) -> None:
    """PostgreSQL, in the switch: the new table's ranges and their indexes take the live names
    (`search_tsv_next_p3` → `search_tsv_p3`; the old ranges went with the old table)."""
    for name in partitions.partitions(cursor, "search_tsv"):
        if not name.startswith(f"search_tsv{NEXT}_"):
            continue
        live = "search_tsv_" + name.removeprefix(f"search_tsv{NEXT}_")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s AND schemaname = current_schema()",
                       [name])
        for (index_name,) in cursor.fetchall():
            if index_name.startswith(name):
                cursor.execute(f'ALTER INDEX "{index_name}" RENAME TO "{live}{index_name[len(name):]}"')
        cursor.execute(f'ALTER TABLE "{name}" RENAME TO "{live}"')


def _after_switch(postgres: bool) -> None:
    """SQLite: the old tables emptied and dropped, and the new entry table's statistics."""
    if postgres:
        return
    _drop_old()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")  # estimates: a full ANALYZE holds the lock for seconds
        cursor.execute(f"ANALYZE {ENTRY_TABLE}")
        cursor.execute("PRAGMA analysis_limit = 0")


def _catch_up() -> int:
    """Index again the objects that changed while the rebuild ran; returns the entries written."""
    written = 0
    while pending := list(PendingChange.objects.order_by("pk")[:5000]):
        by_kind: dict[str, set[int]] = {}
        for change in pending:
            by_kind.setdefault(change.kind, set()).add(change.object_id)
        for kind, ids in by_kind.items():
            written += index(kind, sorted(ids))
        PendingChange.objects.filter(pk__lte=pending[-1].pk).delete()
    return written


def default_workers() -> int:
    """Processes for a rebuild from the command line: one per core (this one mostly waits on them and
    on the database; at 100,000 contracts on two cores, two workers took 56 s, one 77 s, none 104 s)."""
    return max(1, os.cpu_count() or 1)
