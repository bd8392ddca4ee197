"""Writing the search index: what an entry holds, its token stream, and keeping it in step.

An object is (re)indexed by deleting its entries and inserting fresh ones, so its entries always
match its current state and the newest change has the highest id. The token stream of an entry
is a pure function of the entry's row (`entry_bodies`; of a long text's whole entry, of its
object's rows): on SQLite the FTS5 table keeps no copy of it (contentless), and a delete re-derives
it from the rows. After a change to the tokenizer, run `qiyue reindex`.
"""

import dataclasses
import heapq
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator

from django.db import connection, transaction

from qiyue.core.search_kinds import Follow, IndexRow, SearchKind, search_kind, search_kinds

from .models import SearchEntry
from .tokenizer import MAX_QUERY_CHARS, is_cjk, tokenize

log = logging.getLogger(__name__)

ENTRY_TABLE = SearchEntry._meta.db_table
# Chunks of long texts: at most this many characters (a character gives at most one token, so
# positions stay far below PostgreSQL's 16,383), overlapping by the longest query phrase so a
# phrase that crosses a boundary is still found whole in one chunk.
CHUNK_CHARS = 4000
# The chunk number of a long text's "whole" entry: the distinct tokens of all its chunks (the whole
# text's, title included, plus at most a cut-off run's last character per border), without
# positions, so the words of an AND query are matched in the same document wherever they stand;
# each multi-token word (a phrase) is then checked in the chunks, where the overlap keeps it whole
# (see selectors). Its own `text` is empty: its stream is derived from its object's chunk rows,
# which are always written and deleted with it (see `text_streams`). Carries the key token WHOLE_KEY.
WHOLE_CHUNK = 999_999
WHOLE_KEY = "_w"
# PostgreSQL keeps at most 256 positions of one lexeme in a tsvector: a chunk that repeats a token
# more often is split further.
MAX_REPEATS = 250

# Columns written by `_insert` (besides id), in order.
COLUMNS = ("kind", "object_id", "chunk", "contract_id", "customer_id", "version_id", "owner_id", "team_id",
           "status", "nature", "subject_matter", "signing_form", "signing_date", "effective_date",
           "expiry_date", "amount", "title", "text", "page", "page_breaks")
# The key columns that become tokens: a change to one of them changes every entry's stream.
KEY_COLUMNS = ("owner_id", "team_id", "customer_id", "status", "nature", "subject_matter", "signing_form")


# --- token streams --------------------------------------------------------------------------------

def key_tokens(entry: SearchEntry) -> list[str]:
    """Tokens for visibility and filters. They start with "_", which no text token does."""
    keys = [f"_k{entry.kind}"]
    if entry.chunk == WHOLE_CHUNK:
        keys.append(WHOLE_KEY)
    if entry.owner_id is not None:
        keys.append(f"_o{entry.owner_id}")
    if entry.team_id is not None:
        keys.append(f"_t{entry.team_id}")
    if entry.customer_id is not None:
        keys.append(f"_c{entry.customer_id}")
    for prefix, value in (("_s", entry.status), ("_n", entry.nature), ("_m", entry.subject_matter),
                          ("_f", entry.signing_form)):
        if value:
            keys.append(f"{prefix}{value}")
    return keys


def _title_tokens(kind_name: str) -> bool:
    kind = search_kind(kind_name)
    return kind is not None and kind.title_tokens


def text_tokens(entry: SearchEntry) -> list[str]:
    """The text tokens of a chunk or short entry (not of a whole entry: see `text_streams`)."""
    tokens = tokenize(entry.title) if entry.chunk == 0 and _title_tokens(entry.kind) else []
    return tokens + tokenize(entry.text)


def text_streams(entries: list) -> list[list[str]]:
    """The text tokens of each entry of the list: a whole entry's are the sorted distinct tokens of
    its object's other entries, which must be in the list too."""
    streams = [[] if e.chunk == WHOLE_CHUNK else text_tokens(e) for e in entries]
    union: dict[tuple[str, int], set[str]] = {}
    for entry, tokens in zip(entries, streams, strict=True):
        if entry.chunk != WHOLE_CHUNK:
            union.setdefault((entry.kind, entry.object_id), set()).update(tokens)
    for n, entry in enumerate(entries):
        if entry.chunk == WHOLE_CHUNK:
            parts = union.get((entry.kind, entry.object_id))
            if parts is None:
                # Never guess: a wrong stream would corrupt SQLite's contentless index on delete.
                raise ValueError(f"the whole entry of {entry.kind} {entry.object_id} without its chunks")
            streams[n] = sorted(parts)  # empty for a long text without a word (dashes, a table of rules)
    return streams


def entry_bodies(entries: list) -> list[str]:
    """The space-separated streams FTS5 indexes (SQLite)."""
    return [" ".join(tokens + key_tokens(e)) for e, tokens in zip(entries, text_streams(entries), strict=True)]


def entry_tsvectors(entries: list) -> list[str]:
    """The same streams as tsvector literals (PostgreSQL): positions from 1; keys have none, nor
    the tokens of a whole entry (no phrase is matched in it)."""
    return [_tsvector(e, tokens) for e, tokens in zip(entries, text_streams(entries), strict=True)]


# PostgreSQL refuses a tsvector of 1 MB or more (its lexemes' bytes and a 4-byte entry each). A whole
# entry of a text with that many distinct tokens (a huge spreadsheet of codes) keeps its keys only: its
# words are then found together only within one chunk, as before whole entries (docs/architecture.md).
MAX_WHOLE_TSVECTOR_BYTES = 900_000


def _tsvector(entry, tokens: list[str]) -> str:
    if entry.chunk == WHOLE_CHUNK:
        if sum(len(token.encode()) + 4 for token in tokens) > MAX_WHOLE_TSVECTOR_BYTES:
            log.warning("search: %s %s has too many distinct words for a whole entry on PostgreSQL (%s)",
                        entry.kind, entry.object_id, len(tokens))
            tokens = []
        return " ".join(f"'{_quote(token)}'" for token in (*tokens, *key_tokens(entry)))
    positions: dict[str, list[str]] = {}
    for position, token in enumerate(tokens, start=1):
        positions.setdefault(token, []).append(str(min(position, 16383)))
    parts = [f"'{_quote(token)}':{','.join(where)}" for token, where in positions.items()]
    parts.extend(f"'{token}'" for token in key_tokens(entry))
    return " ".join(parts)


def _quote(token: str) -> str:
    return token.replace("\\", "\\\\").replace("'", "''")


# --- chunks ---------------------------------------------------------------------------------------

def _safe_cut(text: str, at: int) -> int:
    """A cut at or just before `at` that does not split a Latin word or number (CJK runs may be cut
    anywhere: their bigrams stay real). Falls back to `at`."""
    for p in range(at, max(at - 100, 1) - 1, -1):
        before, after = text[p - 1], text[p] if p < len(text) else " "
        if not (before.isalnum() and not is_cjk(before) and after.isalnum() and not is_cjk(after)):
            return p
    return at


def chunk_spans(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """(start, end) character spans covering `text`, each ≤ `size`, overlapping by ≥ MAX_QUERY_CHARS."""
    if len(text) <= size:
        spans = [(0, len(text))]
    else:
        spans = []
        start = 0
        while True:
            end = len(text) if start + size >= len(text) else _safe_cut(text, start + size)
            if end <= start + MAX_QUERY_CHARS:
                end = min(len(text), start + size)
            spans.append((start, end))
            if end >= len(text):
                break
            start = _safe_cut(text, end - MAX_QUERY_CHARS)
    if connection.vendor != "postgresql":
        return spans
    out = []
    for start, end in spans:
        counts = Counter(tokenize(text[start:end]))
        if counts and max(counts.values()) > MAX_REPEATS and end - start > 2 * MAX_QUERY_CHARS + 10:
            out.extend((start + s, start + e) for s, e in chunk_spans(text[start:end], (end - start) // 2))
        else:
            out.append((start, end))
    return out


# --- chunking the kinds' rows ---------------------------------------------------------------------

def chunked(row: IndexRow) -> list[IndexRow]:
    """A kind's row of one object as the entries of its text's chunks (the row itself when short),
    followed by its whole entry (WHOLE_CHUNK) when chunked."""
    spans = chunk_spans(row.text)
    if len(spans) == 1:
        return [row]
    entries = []
    for n, (start, end) in enumerate(spans):
        page, breaks = row.page, []
        if page is not None:
            page += sum(1 for p in row.page_breaks if p <= start)
            breaks = [p - start for p in row.page_breaks if start < p < end]
        entries.append(dataclasses.replace(row, chunk=n, text=row.text[start:end], page=page, page_breaks=breaks))
    entries.append(dataclasses.replace(row, chunk=WHOLE_CHUNK, text="", page=None, page_breaks=[]))
    return entries


def entries_of(rows: Iterable[IndexRow]) -> list[IndexRow]:
    return [entry for row in rows for entry in chunked(row)]


# --- the two databases ----------------------------------------------------------------------------

def _allocate_ids(cursor, n: int) -> list[int]:
    """n new entry ids above every id ever used (called inside the writing transaction)."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [ENTRY_TABLE, n])
        return [row[0] for row in cursor.fetchall()]
    # SQLite: the write lock is held since BEGIN (IMMEDIATE), so nobody else takes these ids.
    # Not injectable (bandit B608): the table and column names are this module's constants.
    cursor.execute(f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # nosec B608
                   f"coalesce((SELECT max(id) FROM {ENTRY_TABLE}), 0))", [ENTRY_TABLE])
    first = cursor.fetchone()[0] + 1
    return list(range(first, first + n))


def _db_row(e, sqlite: bool) -> tuple:
    dates = (e.signing_date, e.effective_date, e.expiry_date)
    if sqlite:
        dates = tuple(d.isoformat() if d is not None else None for d in dates)
    amount = str(e.amount) if sqlite and e.amount is not None else e.amount
    return (e.pk, e.kind, e.object_id, e.chunk, e.contract_id, e.customer_id, e.version_id, e.owner_id, e.team_id,
            e.status, e.nature, e.subject_matter, e.signing_form, *dates, amount, e.title, e.text, e.page,
            json.dumps(e.page_breaks or []))


def insert_entries(entries: list[IndexRow]) -> None:
    """Insert entries (new ids, ascending in list order) and their full-text rows."""
    if not entries:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for entry, new_id in zip(entries, _allocate_ids(cursor, len(entries)), strict=True):
            entry.pk = new_id
        columns = ", ".join(("id", *COLUMNS))
        marks = ", ".join(["%s"] * (len(COLUMNS) + 1))
        # Not injectable (bandit B608): the table and column names are this module's constants.
        cursor.executemany(f"INSERT INTO {ENTRY_TABLE} ({columns}) VALUES ({marks})",  # nosec B608
                           [_db_row(e, connection.vendor == "sqlite") for e in entries])
        if connection.vendor == "postgresql":
            cursor.executemany("INSERT INTO search_tsv (entry_id, kind, object_id, tsv) "
                               "VALUES (%s, %s, %s, %s::tsvector)",
                               [(e.pk, e.kind, e.object_id, tsv)
                                for e, tsv in zip(entries, entry_tsvectors(entries), strict=True)])
        else:
            cursor.executemany("INSERT INTO search_fts (rowid, body) VALUES (%s, %s)",
                               [(e.pk, body) for e, body in zip(entries, entry_bodies(entries), strict=True)])


def delete_entries(entries: list[SearchEntry]) -> None:
    """Delete entries and their full-text rows (the rows must be as stored; a whole entry with all
    its object's other entries)."""
    if not entries:
        return
    ids = [e.pk for e in entries]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DELETE FROM search_tsv WHERE entry_id = ANY(%s)", [ids])
        else:
            cursor.executemany("INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', %s, %s)",
                               [(e.pk, body) for e, body in zip(entries, entry_bodies(entries), strict=True)])
        SearchEntry.objects.filter(pk__in=ids).delete()


def clear_index() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE search_tsv, {ENTRY_TABLE}")
        else:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            # Not injectable (bandit B608): the table and column names are this module's constants.
            cursor.execute(f"DELETE FROM {ENTRY_TABLE}")  # nosec B608


def replace_entries(kind: str, object_ids: Iterable[int], entries: list[IndexRow]) -> None:
    """Make `entries` the index's entries for these objects (locking them against a concurrent run)."""
    object_ids = list(object_ids)
    with transaction.atomic():
        old = list(SearchEntry.objects.select_for_update().filter(kind=kind, object_id__in=object_ids))
        delete_entries(old)
        insert_entries(entries)


# --- following changes ----------------------------------------------------------------------------

def _followers(kind: SearchKind) -> list[tuple[SearchKind, Follow]]:
    return [(other, other.follows[kind.name]) for other in search_kinds() if kind.name in other.follows]


def _changed(old: SearchEntry | None, new: IndexRow | None, columns: tuple[str, ...]) -> bool:
    return old is None or new is None or any(getattr(old, c) != getattr(new, c) for c in columns)


def index(kind_name: str, object_ids: Iterable[int]) -> int:
    """Re-index these objects of a kind from their current state (an object that is gone or no longer
    live leaves the index), then the objects of other kinds that follow the changes (a contract's
    documents when its owner, team, status … changed; a customer's contracts when it was renamed).
    Returns the number of entries written."""
    kind = search_kind(kind_name)
    if kind is None:
        log.warning("search kind %r is not registered: %s object(s) not indexed", kind_name, len(list(object_ids)))
        return 0
    object_ids = list(dict.fromkeys(object_ids))
    followers = _followers(kind)
    follow_up: dict[str, list[int]] = {}
    written = 0
    for start in range(0, len(object_ids), kind.batch):
        batch = object_ids[start:start + kind.batch]
        with transaction.atomic():
            rows = {row.object_id: row for row in kind.rows(batch)}
            before = ({e.object_id: e for e in SearchEntry.objects.filter(kind=kind.name, chunk=0, object_id__in=batch)}
                      if followers else {})
            entries = entries_of(rows.values())
            replace_entries(kind.name, batch, entries)
            written += len(entries)
        for other, follow in followers:
            changed = [pk for pk in batch if _changed(before.get(pk), rows.get(pk), follow.columns)]
            if changed:
                follow_up.setdefault(other.name, []).extend(follow.ids(changed))
    for other_name, ids in follow_up.items():
        written += index(other_name, ids)
    return written


# --- rebuilding everything ------------------------------------------------------------------------

def _merged_by_created(*streams: Iterator) -> Iterator:
    return heapq.merge(*streams, key=lambda item: item[0])


def reindex_all(*, batch: int = 2000, progress=None) -> int:
    """Rebuild the whole index: the objects of every registered kind (customers, contracts,
    documents …) interleaved by creation time, so the newest objects get the highest ids. Returns the
    number of entries."""
    clear_index()
    kinds = search_kinds()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Fresh statistics first: after a bulk load or a restore the planner may think the
            # document table is empty and scan all of it for every batch (a second per 100 rows).
            cursor.execute("ANALYZE")
            # Building the GIN index once at the end is much faster than maintaining it row by row.
            cursor.execute("DROP INDEX IF EXISTS search_tsv_gin")
    total = objects = reported = 0
    pending: list[IndexRow] = []
    try:
        for _created, rows in _merged_by_created(*(kind.stream(batch) for kind in kinds)):
            pending.extend(entries_of(rows))
            objects += 1
            if len(pending) >= batch:
                insert_entries(pending)
                total += len(pending)
                pending.clear()
                if progress and objects - reported >= 50_000:
                    reported = objects
                    progress(objects, total)
        insert_entries(pending)
        total += len(pending)
    finally:
        optimize()
    if progress:
        progress(objects, total)
    return total


def optimize() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE INDEX IF NOT EXISTS search_tsv_gin ON search_tsv USING gin (tsv) "
                           "WITH (fastupdate = off)")
            cursor.execute(f"ANALYZE {ENTRY_TABLE}")
            cursor.execute("ANALYZE search_tsv")
        else:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            cursor.execute("ANALYZE")
