"""Writing the search index: what an entry holds, its token stream, and keeping it in step.

An object is (re)indexed by deleting its entries and inserting fresh ones, so its entries always
match its current state and the newest change has the highest id. The token stream of an entry
is a pure function of the entry's row (`entry_bodies`; of a long text's whole entry, of its
object's rows): on SQLite the FTS5 table keeps no copy of it (contentless), and a delete re-derives
it from the rows. A stream's format (FORMAT, kept in IndexState) says what it holds beside the text's
tokens and keys; writes use the live index's format, so the rows of an older index are still deleted
with the streams they were written with. After a change to the tokenizer, run `qiyue reindex`
(rebuild.py), which builds the current format beside the live index and switches to it.
"""

import dataclasses
import datetime
import json
import logging
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from qiyue.core.search_kinds import Follow, IndexRow, SearchKind, search_kind, search_kinds

from . import partitions
from .models import PendingChange, SearchEntry
from .tokenizer import MAX_QUERY_CHARS, char_tokens, is_cjk, tokenize

log = logging.getLogger(__name__)

ENTRY_TABLE = SearchEntry._meta.db_table
# The format of the token streams this code writes: 1, text tokens and key tokens; 2, also a
# character token per distinct CJK character (tokenizer.char_tokens).
FORMAT = 2
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


def entry_bodies(entries: list, fmt: int = FORMAT) -> list[str]:
    """The space-separated streams FTS5 indexes (SQLite): text tokens, key tokens, then (format 2)
    character tokens; a phrase never reaches past the text (key tokens stand between)."""
    return [" ".join(tokens + key_tokens(e) + (char_tokens(tokens) if fmt >= 2 else []))
            for e, tokens in zip(entries, text_streams(entries), strict=True)]


def entry_tsvectors(entries: list, fmt: int = FORMAT) -> list[str]:
    """The same streams as tsvector literals (PostgreSQL): positions from 1; keys and character
    tokens have none, nor the tokens of a whole entry (no phrase is matched in it)."""
    return [_tsvector(e, tokens, fmt) for e, tokens in zip(entries, text_streams(entries), strict=True)]


# PostgreSQL refuses a tsvector of 1 MB or more (its lexemes' bytes and a 4-byte entry each). A whole
# entry of a text with that many distinct tokens (a huge spreadsheet of codes) keeps its keys only: its
# words are then found together only within one chunk, as before whole entries (docs/architecture.md).
MAX_WHOLE_TSVECTOR_BYTES = 900_000


def _tsvector(entry, tokens: list[str], fmt: int = FORMAT) -> str:
    chars = char_tokens(tokens) if fmt >= 2 else []
    if entry.chunk == WHOLE_CHUNK:
        if sum(len(token.encode()) + 4 for token in tokens) > MAX_WHOLE_TSVECTOR_BYTES:
            log.warning("search: %s %s has too many distinct words for a whole entry on PostgreSQL (%s)",
                        entry.kind, entry.object_id, len(tokens))
            tokens = chars = []
        return " ".join(f"'{_quote(token)}'" for token in (*tokens, *key_tokens(entry), *chars))
    positions: dict[str, list[str]] = {}
    for position, token in enumerate(tokens, start=1):
        positions.setdefault(token, []).append(str(min(position, 16383)))
    parts = [f"'{_quote(token)}':{','.join(where)}" for token, where in positions.items()]
    parts.extend(f"'{token}'" for token in key_tokens(entry))
    parts.extend(f"'{token}'" for token in chars)
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


def chunk_spans(text: str, size: int = CHUNK_CHARS, *, postgres: bool | None = None) -> list[tuple[int, int]]:
    """(start, end) character spans covering `text`, each ≤ `size`, overlapping by ≥ MAX_QUERY_CHARS
    (on PostgreSQL, `postgres` by default the connection's, also with no token repeated too often)."""
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
    if postgres is None:
        postgres = connection.vendor == "postgresql"
    if not postgres:
        return spans
    out = []
    for start, end in spans:
        counts = Counter(tokenize(text[start:end]))
        if counts and max(counts.values()) > MAX_REPEATS and end - start > 2 * MAX_QUERY_CHARS + 10:
            out.extend((start + s, start + e) for s, e in chunk_spans(text[start:end], (end - start) // 2,
                                                                       postgres=True))
        else:
            out.append((start, end))
    return out


# --- chunking the kinds' rows ---------------------------------------------------------------------

def chunked(row: IndexRow, *, postgres: bool | None = None) -> list[IndexRow]:
    """A kind's row of one object as the entries of its text's chunks (the row itself when short),
    followed by its whole entry (WHOLE_CHUNK) when chunked."""
    spans = chunk_spans(row.text, postgres=postgres)
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


def entries_of(rows: Iterable[IndexRow], *, postgres: bool | None = None) -> list[IndexRow]:
    return [entry for row in rows for entry in chunked(row, postgres=postgres)]


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


def db_values(e, sqlite: bool) -> tuple:
    """The COLUMNS of an entry as the database takes them."""
    dates = (e.signing_date, e.effective_date, e.expiry_date)
    if sqlite:
        dates = tuple(d.isoformat() if d is not None else None for d in dates)
    amount = str(e.amount) if sqlite and e.amount is not None else e.amount
    return (e.kind, e.object_id, e.chunk, e.contract_id, e.customer_id, e.version_id, e.owner_id, e.team_id,
            e.status, e.nature, e.subject_matter, e.signing_form, *dates, amount, e.title, e.text, e.page,
            json.dumps(e.page_breaks or []))


def insert_entries(entries: list[IndexRow], fmt: int = FORMAT) -> None:
    """Insert entries (new ids, ascending in list order) and their full-text rows, in format `fmt`."""
    if not entries:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for entry, new_id in zip(entries, _allocate_ids(cursor, len(entries)), strict=True):
            entry.pk = new_id
        columns = ", ".join(("id", *COLUMNS))
        marks = ", ".join(["%s"] * (len(COLUMNS) + 1))
        # Not injectable (bandit B608): the table and column names are this module's constants.
        cursor.executemany(f"INSERT INTO {ENTRY_TABLE} ({columns}) VALUES ({marks})",  # nosec B608
                           [(e.pk, *db_values(e, connection.vendor == "sqlite")) for e in entries])
        if connection.vendor == "postgresql":
            partitions.ensure(cursor, entries[0].pk, entries[-1].pk)
            cursor.executemany("INSERT INTO search_tsv (entry_id, kind, object_id, tsv) "
                               "VALUES (%s, %s, %s, %s::tsvector)",
                               [(e.pk, e.kind, e.object_id, tsv)
                                for e, tsv in zip(entries, entry_tsvectors(entries, fmt), strict=True)])
        else:
            cursor.executemany("INSERT INTO search_fts (rowid, body) VALUES (%s, %s)",
                               [(e.pk, body) for e, body in zip(entries, entry_bodies(entries, fmt), strict=True)])


def delete_entries(entries: list[SearchEntry], fmt: int = FORMAT) -> None:
    """Delete entries and their full-text rows (the rows must be as stored, and `fmt` the format they
    were written in; a whole entry with all its object's other entries)."""
    if not entries:
        return
    ids = [e.pk for e in entries]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DELETE FROM search_tsv WHERE entry_id = ANY(%s)", [ids])
        else:
            cursor.executemany("INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', %s, %s)",
                               [(e.pk, body) for e, body in zip(entries, entry_bodies(entries, fmt), strict=True)])
        SearchEntry.objects.filter(pk__in=ids).delete()


# A rebuild that has not touched the state for this long was killed (it touches it every batch).
REBUILD_STALE = datetime.timedelta(minutes=10)


def read_state(*, lock: bool = False) -> tuple[int, bool]:
    """The live index's (format, rebuilding). `lock` (in a writing transaction): a rebuild's switch to
    a new index waits for this transaction, and this one for the switch (PostgreSQL; SQLite writers
    take turns). No row (tables flushed): an empty index, in the current format."""
    sql = "SELECT format, rebuilding, touched_at FROM search_indexstate WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute(sql + (" FOR SHARE" if lock and connection.vendor == "postgresql" else ""))
        row = cursor.fetchone()
    if not row:
        return FORMAT, False
    fmt, rebuilding, touched = row
    if rebuilding and isinstance(touched, str):  # SQLite without converters: ISO text
        touched = datetime.datetime.fromisoformat(touched)
    if rebuilding and touched is not None:
        touched = touched if touched.tzinfo else touched.replace(tzinfo=datetime.UTC)
        rebuilding = timezone.now() - touched < REBUILD_STALE
    return fmt, bool(rebuilding)


def replace_entries(kind: str, object_ids: Iterable[int], entries: list[IndexRow]) -> None:
    """Make `entries` the index's entries for these objects (locking them against a concurrent run),
    in the live index's format; while a rebuild runs, the objects are noted for it (PendingChange)."""
    object_ids = list(object_ids)
    with transaction.atomic():
        fmt, rebuilding = read_state(lock=True)
        old = list(SearchEntry.objects.select_for_update().filter(kind=kind, object_id__in=object_ids))
        delete_entries(old, fmt)
        insert_entries(entries, fmt)
        if rebuilding:
            PendingChange.objects.bulk_create([PendingChange(kind=kind, object_id=pk) for pk in object_ids])


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
