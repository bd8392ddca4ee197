"""Search: the kinds apps register (contracts, customers, the current text of documents …), only
what the user may see.

One query plan on both databases, answered by the full-text index (FTS5 on SQLite, a GIN-indexed
tsvector on PostgreSQL):

    text phrases AND visibility keys (_o<user> OR _t<team>) AND filter keys (_s<status> OR …)

with date and amount ranges checked on the joined SearchEntry row. Long texts are chunks plus a
"whole" entry, and the words of an AND query may stand in different chunks: see _mode and
docs/architecture.md ("Long texts in the search index"). Every query stops early:
the count stops at COUNT_CAP + 1 distinct objects ("1,000+"), the page reads rows in id order
(newest first) only until it has enough; when the hits are few enough to count they are ranked
instead: those whose title holds every word first, then newest first (see _Query._ranked_rows). The objects of the shown page are then read through the
ordinary visibility rule once more, so a stale entry can never show what the user may not see.
"""

import datetime
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils.safestring import SafeString

from qiyue.contracts.models import Contract
from qiyue.contracts.search import KIND as CONTRACT
from qiyue.core.permissions import Scope, visible
from qiyue.core.search_kinds import search_kind

from . import partitions
from .indexing import ENTRY_TABLE, WHOLE_CHUNK, WHOLE_KEY, read_state
from .models import SearchEntry
from .snippets import highlight
from .tokenizer import Phrase, as_char_token, normalize, parse_query

COUNT_CAP = 1000
# Counting an AND query with a multi-token word: the most chunk rows read to list the objects
# holding the word (see _Query._verify).
PHRASE_SCAN_ROWS = 20_000
# PostgreSQL: a page near the top first tests the newest this many entries one by one (see
# _Query._newest_batches).
PAGE_WINDOW = 500
# Above every entry id: the open upper end of the newest id range (see _Query.count_ranges).
NO_ID_ABOVE = 2**62
# Results past this offset are not served (as search engines do): refine the query instead.
MAX_OFFSET = COUNT_CAP

# Filters that are lists of choices, and the key-token prefix of each (see indexing.key_tokens).
CHOICE_FILTERS = {"status": "_s", "nature": "_n", "subject_matter": "_m", "signing_form": "_f"}
# Filters that are one object (or id), and their key-token prefix.
OBJECT_FILTERS = {"customer": "_c", "owner": "_o", "team": "_t"}
# Range filters on the entry's columns: name → (column, operator).
RANGE_FILTERS = {
    "signing_date_after": ("signing_date", ">="), "signing_date_before": ("signing_date", "<="),
    "effective_date_after": ("effective_date", ">="), "effective_date_before": ("effective_date", "<="),
    "expiry_date_after": ("expiry_date", ">="), "expiry_date_before": ("expiry_date", "<="),
    "amount_min": ("amount", ">="), "amount_max": ("amount", "<="),
}


@dataclass
class Hit:
    kind: str
    object: object
    title: str
    url: str
    snippet: SafeString
    page: int | None = None
    file: str = ""
    label: str = ""
    badge: str = "secondary"

    @property
    def id(self) -> int:
        return self.object.pk


@dataclass
class SearchResults:
    hits: list[Hit] = field(default_factory=list)
    count: int = 0
    count_capped: bool = False
    ranked: bool = False
    phrases: list[Phrase] = field(default_factory=list)
    # The query was not empty but had no word to search for (only punctuation or symbols).
    no_words: bool = False

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.count_capped else f"{self.count:,}"


# --- the full-text expression ---------------------------------------------------------------------

@dataclass(frozen=True)
class AnyOf:
    """At least one of these key tokens."""

    tokens: tuple[str, ...]


def visibility_clause(user) -> AnyOf | None | bool:
    """None: no restriction; False: sees nothing; else the keys one of which an entry must carry.
    The same rule as qiyue.core.permissions.visible."""
    keys = Scope.of(user).search_keys()
    if keys is None:
        return None
    return AnyOf(keys) if keys else False


def _pk(value) -> int | None:
    if value in (None, ""):
        return None
    return int(getattr(value, "pk", value))


def filter_clauses(filters: Mapping) -> tuple[list[AnyOf], list[tuple[str, str, object]]]:
    """Key-token clauses and (column, operator, value) range conditions for the filters."""
    clauses = []
    kinds = [k for k in (filters.get("type") or []) if search_kind(k) is not None]
    if kinds:
        clauses.append(AnyOf(tuple(f"_k{k}" for k in kinds)))
    for name, prefix in CHOICE_FILTERS.items():
        values = filters.get(name) or []
        if isinstance(values, str):
            values = [values]
        if values:
            clauses.append(AnyOf(tuple(f"{prefix}{v}" for v in values)))
    for name, prefix in OBJECT_FILTERS.items():
        pk = _pk(filters.get(name))
        if pk is not None:
            clauses.append(AnyOf((f"{prefix}{pk}",)))
    ranges = []
    for name, (column, operator) in RANGE_FILTERS.items():
        value = filters.get(name)
        if value not in (None, ""):
            if isinstance(value, datetime.date):
                value = value.isoformat() if connection.vendor == "sqlite" else value
            elif column == "amount":
                value = Decimal(str(value))
                # SQLite stores the decimal as REAL-affinity text; compare numbers with numbers.
                value = float(value) if connection.vendor == "sqlite" else value
            ranges.append((column, operator, value))
    return clauses, ranges


def _fts5_phrase(phrase: Phrase, *, loose: bool = False) -> str:
    if loose:
        tokens = [f'"{t}"' for t in phrase.tokens]
        if phrase.prefix:
            tokens[-1] += " *"
        return " AND ".join(tokens)
    return '"' + " ".join(phrase.tokens) + '"' + (" *" if phrase.prefix else "")


def _fts5(phrases: list[Phrase], clauses: list[AnyOf], *, loose: bool = False) -> str:
    parts = [_fts5_phrase(phrase, loose=loose) for phrase in phrases]
    for clause in clauses:
        parts.append("(" + " OR ".join(f'"{t}"' for t in clause.tokens) + ")")
    return " AND ".join(parts)


def _ts_phrase(phrase: Phrase, *, loose: bool = False) -> str:
    lexemes = [f"'{t}'" for t in phrase.tokens]
    if phrase.prefix:
        lexemes[-1] += ":*"
    return "(" + (" & " if loose else " <-> ").join(lexemes) + ")"


def _tsquery(phrases: list[Phrase], clauses: list[AnyOf], *, loose: bool = False) -> str:
    """The tsquery; `loose` ANDs a phrase's lexemes instead (answered by the GIN index alone,
    without reading any tsvector: candidates for the exact query)."""
    parts = [_ts_phrase(phrase, loose=loose) for phrase in phrases]
    for clause in clauses:
        parts.append("(" + " | ".join(f"'{t}'" for t in clause.tokens) + ")")
    return " & ".join(parts)


# How a query meets long texts, which are indexed as overlapping chunks plus one "whole" entry
# (the distinct tokens of the whole text, no positions; see indexing.WHOLE_CHUNK):
# - CHUNKS: one word or phrase: it is whole in some chunk (the overlap), so the whole entries are
#   left out;
# - ALL: several words of one token each: each is in the whole entry if anywhere in the text, so
#   a chunked text matches by its whole entry, a short one by its only entry;
# - VERIFY: several words, some of several tokens (a CJK word of three characters or more is a
#   phrase of bigrams, as is "a quoted phrase"): a short text (or one chunk) must hold them all
#   exactly; a whole entry that holds all their tokens is a candidate, kept once each of its
#   multi-token words is found in one of its chunks.
CHUNKS, ALL, VERIFY = "chunks", "all", "verify"
# The VERIFY query's second half alone: whole entries holding every token (counting, see _Query.count).
WHOLE = "whole"


def _mode(phrases: list[Phrase]) -> str:
    if len(phrases) < 2:
        return CHUNKS
    return VERIFY if any(len(p.tokens) > 1 for p in phrases) else ALL


def _expression(phrases: list[Phrase], clauses: list[AnyOf], mode: str, postgres: bool) -> str:
    if postgres:
        exact = _tsquery(phrases, clauses)
        if mode == CHUNKS:
            return f"{exact} & !'{WHOLE_KEY}'"
        if mode == ALL:
            return exact
        if mode == WHOLE:
            return f"'{WHOLE_KEY}' & {_tsquery(phrases, clauses, loose=True)}"
        return f"(({exact} & !'{WHOLE_KEY}') | ('{WHOLE_KEY}' & {_tsquery(phrases, clauses, loose=True)}))"
    exact = _fts5(phrases, clauses)
    if mode == CHUNKS:
        return f'({exact}) NOT "{WHOLE_KEY}"'
    if mode == ALL:
        return exact
    if mode == WHOLE:
        return f'"{WHOLE_KEY}" AND {_fts5(phrases, clauses, loose=True)}'
    return f'(({exact}) NOT "{WHOLE_KEY}") OR ("{WHOLE_KEY}" AND {_fts5(phrases, clauses, loose=True)})'


def _whole_ids(entry_ids) -> set[int]:
    """The whole entries among these entry ids."""
    entry_ids = list(entry_ids)
    found: set[int] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(entry_ids), 500):
            part = entry_ids[start:start + 500]
            # Not injectable (bandit B608): the table name is a constant, the values parameters.
            cursor.execute(f"SELECT id FROM {ENTRY_TABLE} WHERE chunk = %s AND id IN "  # nosec B608
                           f"({', '.join(['%s'] * len(part))})", [WHOLE_CHUNK, *part])
            found.update(row[0] for row in cursor.fetchall())
    return found


def _parts_matching(keys, phrase_expression: str, *, by_id) -> dict[tuple[str, int], int]:
    """{(kind, object id): entry id} of the chunked objects among `keys` with a chunk matching the
    expression: for each object (found by its whole entry), its chunks in order, looked up by
    object and tested by entry id, stopping at the first that matches; never a scan of the
    expression's postings."""
    if connection.vendor == "postgresql":
        test = "JOIN search_tsv f ON f.entry_id = c.id WHERE f.tsv @@ %s::tsquery AND"
    else:
        # CROSS JOIN: the entries first, then each one's FTS5 row by rowid (MATCH with rowid =).
        test = "CROSS JOIN search_fts WHERE search_fts.rowid = c.id AND search_fts MATCH %s AND"
    found: dict[tuple[str, int], int] = {}
    by_kind: dict[str, list[int]] = {}
    for kind, object_id in keys:
        by_kind.setdefault(kind, []).append(object_id)
    for kind, object_ids in by_kind.items():
        for start in range(0, len(object_ids), 500):
            part = object_ids[start:start + 500]
            marks = ", ".join(["%s"] * len(part))
            # Not injectable (bandit B608): the table names are constants, the values parameters.
            sql = (f"SELECT o.kind, o.object_id, (SELECT c.id FROM {ENTRY_TABLE} c {test} "  # nosec B608
                   f"c.kind = o.kind AND c.object_id = o.object_id AND c.chunk <> %s LIMIT 1) "
                   f"FROM {ENTRY_TABLE} o WHERE o.kind = %s AND o.object_id IN ({marks}) AND o.chunk = %s")
            for row_kind, object_id, entry_id in by_id(sql, [phrase_expression, WHOLE_CHUNK, kind, *part,
                                                             WHOLE_CHUNK]):
                if entry_id is not None:
                    found[(row_kind, object_id)] = entry_id
    return found


def _fetch(sql: str, params: list, *, by_id: bool = False) -> list[tuple]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Always answer from the GIN index (a bitmap scan costs what the term's postings
            # cost): the planner's other choice, walking the primary key in id order and
            # testing every row, is fast for dense terms and a table scan for sparse ones.
            # `by_id`: a query for a short list of entry ids is the opposite case: look each
            # row up by its key and test it, never traverse the postings again.
            off = "enable_bitmapscan" if by_id else "enable_indexscan"
            with transaction.atomic(savepoint=False):
                cursor.execute(f"SET LOCAL enable_seqscan = off; SET LOCAL {off} = off")
                try:
                    cursor.execute(sql, params)
                    return cursor.fetchall()
                finally:
                    # An outer transaction (a test, ATOMIC_REQUESTS) keeps its own plans.
                    cursor.execute(f"SET LOCAL enable_seqscan = on; SET LOCAL {off} = on")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _read_until(sql: str, params: list, enough: Callable[[list[tuple]], bool], size: int = 500) -> None:
    """PostgreSQL: the rows of a query handed to `enough` in batches from a server-side cursor until
    it answers True (the plan runs only as far as rows are fetched), answered from the GIN index as
    in _fetch."""
    connection.ensure_connection()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        try:
            with connection.connection.cursor(name="qiyue_search_rows") as server:
                server.execute(sql, params)
                while rows := server.fetchmany(size):
                    if enough(rows):
                        break
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on")


def _by_id(sql: str, params: list) -> list[tuple]:
    return _fetch(sql, params, by_id=True)


class _Query:
    """The SQL of one search: FROM/WHERE with its parameters, for counting and for pages."""

    def __init__(self, phrases: list[Phrase], clauses: list[AnyOf], ranges, exclude: tuple | None = None,
                 only: tuple | None = None, mode: str | None = None):
        self.postgres = connection.vendor == "postgresql"
        self.phrases = phrases
        self.mode = mode or _mode(phrases)
        self.args = (phrases, clauses, ranges, exclude, only)
        # (kind, object id) → the entry of a chunk holding every multi-token word, or None: the
        # whole entries checked so far.
        self.verified: dict[tuple[str, int], int | None] = {}
        # Multi-token word → the objects whose chunks hold it (None: too many to list).
        self.phrase_objects: dict[Phrase, set[tuple[str, int]] | None] = {}
        # Every matching row in ranked order, once read (see _ranked_rows).
        self.ranked: list[tuple[int, str, int]] | None = None
        # PostgreSQL: (partitioned, lowest and highest entry id) of search_tsv, read once (see count_ranges).
        self.shape: tuple[bool, int, int] | None = None
        if self.postgres:
            # search_tsv carries kind and object id, so only range filters need the entry row.
            self.rowid, obj = "f.entry_id", "f"
            self.sql_from = "search_tsv f" + (f" JOIN {ENTRY_TABLE} e ON e.id = f.entry_id" if ranges else "")
            where = ["f.tsv @@ %s::tsquery"]
            self.expression = _expression(phrases, clauses, self.mode, postgres=True)
            self.loose = _tsquery(phrases, clauses, loose=True)
            if self.mode == CHUNKS:  # the GIN index leaves the whole entries out itself
                self.loose = f"{self.loose} & !'{WHOLE_KEY}'"
        else:
            self.rowid, obj = "search_fts.rowid", "e"
            self.sql_from = f"search_fts JOIN {ENTRY_TABLE} e ON e.id = search_fts.rowid"
            where = ["search_fts MATCH %s"]
            self.expression = _expression(phrases, clauses, self.mode, postgres=False)
        self.columns = f"{self.rowid}, {obj}.kind, {obj}.object_id"
        params: list = [self.expression]
        for column, operator, value in ranges:
            where.append(f"e.{column} {operator} %s")
            params.append(value)
        if exclude:
            where.append(f"NOT ({obj}.kind = %s AND {obj}.object_id = %s)")
            params.extend(exclude)
        if only:
            where.append(f"{obj}.kind = %s AND {obj}.object_id = %s")
            params.extend(only)
        self.where = " AND ".join(where)
        self.params = params

    def _fetch(self, sql: str, params: list, *, by_id: bool = False) -> list[tuple]:
        return _fetch(sql, params, by_id=by_id)

    def count(self, cap: int) -> int:
        """Distinct objects among the matches, counted up to `cap`."""
        if self.mode == VERIFY:
            return self._count_verified(cap)
        return min(len(self.distinct_keys(cap)), cap)

    def distinct_keys(self, cap: int) -> set[tuple[str, int]]:
        """The (kind, object id) of the matching rows, at least `cap` of them if there are."""
        if not self.postgres:
            return set(self._fetch(f"SELECT DISTINCT e.kind, e.object_id FROM {self.sql_from} WHERE {self.where} "
                                   f"LIMIT %s", [*self.params, cap]))
        # The newest ids first (on a partitioned table, that range's own GIN index only), then the
        # rest in one query: a frequent word stops in the first, a rare one costs what it did. Rows
        # are read from a server-side cursor until enough objects are found: one pass, where a
        # LIMIT would be guessed (a long document's chunks are many rows of one object) and, when
        # short, the query run again, its phrase checked in every row again.
        keys: set[tuple[str, int]] = set()

        def enough(rows: list[tuple]) -> bool:
            keys.update((kind, object_id) for _id, kind, object_id in rows)
            return len(keys) >= cap

        for low, high in self.count_ranges():
            _read_until(f"SELECT {self.columns} FROM {self.sql_from} WHERE {self.where} "
                        f"AND f.entry_id >= %s AND f.entry_id < %s", [*self.params, low, high], enough)
            if len(keys) >= cap:
                break
        return keys

    def _shape(self) -> tuple[bool, int, int]:
        if self.shape is None:
            self.shape = partitions.live_shape()
        return self.shape

    def count_ranges(self) -> list[tuple[int, int]]:
        """PostgreSQL: (low, high) entry ids to count in, newest first: on a partitioned table the
        ranges of the newest PARTITION_IDS ids (one or two of its partitions), then all older ones."""
        partitioned, bottom, top = self._shape()
        if not partitioned:
            return [(0, NO_ID_ABOVE)]
        split = max(0, (top - partitions.PARTITION_IDS) // partitions.PARTITION_IDS * partitions.PARTITION_IDS)
        return [(split, NO_ID_ABOVE), (0, split)] if split > bottom else [(0, NO_ID_ABOVE)]

    def page_ranges(self) -> list[tuple[int, int]]:
        """PostgreSQL: (low, high) entry ids to read a page from, newest first: each partition's own."""
        partitioned, bottom, top = self._shape()
        if not partitioned:
            return [(0, NO_ID_ABOVE)]
        size = partitions.PARTITION_IDS
        ranges = [(n * size, (n + 1) * size) for n in range(top // size, bottom // size - 1, -1)]
        # Open at both ends: ids written since the shape was read (or a rebuild's switch in between,
        # whose new ids are all higher) fall in the first range, older ones in the last.
        ranges[0] = (ranges[0][0], NO_ID_ABOVE)
        ranges[-1] = (0, ranges[-1][1])
        return ranges

    def _count_verified(self, cap: int) -> int:
        """VERIFY: the objects a chunk or short entry matches exactly (as a CHUNKS query counts
        them), then, while under `cap`, the other objects whose whole entry holds every token, in
        id order, a batch at a time, each kept if its multi-token words are in its chunks."""
        keys = _Query(*self.args, mode=CHUNKS).distinct_keys(cap)
        whole = _Query(*self.args, mode=WHOLE)
        after = 0
        while len(keys) < cap:
            rows = self._fetch(f"SELECT {whole.columns} FROM {whole.sql_from} WHERE {whole.where} "
                               f"AND {whole.rowid} > %s ORDER BY {whole.rowid} LIMIT 500", [*whole.params, after])
            self._verify([(kind, object_id) for _id, kind, object_id in rows if (kind, object_id) not in keys],
                         many=True)
            keys.update(key for key in ((kind, object_id) for _id, kind, object_id in rows)
                        if self.verified.get(key) is not None)
            if len(rows) < 500:
                break
            after = rows[-1][0]
        return min(len(keys), cap)

    def rows(self, *, ranked: bool, limit: int) -> list[tuple[int, str, int]]:
        if ranked:
            return self._ranked_rows()[:limit]
        if not self.postgres:
            return self._fetch(f"SELECT {self.columns} FROM {self.sql_from} WHERE {self.where} "
                               f"ORDER BY {self.rowid} DESC LIMIT %s", [*self.params, limit])
        rows: list[tuple[int, str, int]] = []
        for batch in self._newest_batches(limit):
            rows += batch
            if len(rows) >= limit:
                break
        return rows[:limit]

    def _newest_batches(self, limit: int) -> Iterator[list[tuple[int, str, int]]]:
        """PostgreSQL, newest first over many hits, in batches as they are confirmed (first_objects
        reads on where it stopped instead of starting again). Checking a phrase reads the row's
        tsvector, so candidates come first from the GIN index alone (the phrase's lexemes ANDed),
        newest first, a partition at a time (each has its own GIN index, whose bitmap costs what the
        partition's postings cost); only those are checked against the exact query, 200 at a time,
        until the caller has enough. A candidate query costs mostly the partition's bitmap and
        reading its rows to sort them, whatever its LIMIT, so a deep page takes more at once."""
        take = min(max(1000, 2 * limit), 10_000)
        cut = None
        if limit <= 200:
            # A page near the top: first walk the newest PAGE_WINDOW ids by primary key, testing each
            # row, which a frequent word fills a page from without reading its bitmap at all; when
            # the window holds too few hits, they are found again below.
            window = max(0, self._shape()[2] + 1 - PAGE_WINDOW)
            rows = self._fetch(f"SELECT {self.columns} FROM {self.sql_from} WHERE {self.where} AND f.entry_id >= %s "
                               f"ORDER BY f.entry_id DESC LIMIT %s", [*self.params, window, limit], by_id=True)
            if len(rows) >= limit:
                yield rows
                cut = rows[-1][0]
        for low, high in self.page_ranges():
            if cut is not None:
                high = min(high, cut)
                if high <= low:
                    continue
            while True:
                candidates = [row[0] for row in self._fetch(
                    "SELECT f.entry_id FROM search_tsv f WHERE f.tsv @@ %s::tsquery AND f.entry_id < %s "
                    "AND f.entry_id >= %s ORDER BY f.entry_id DESC LIMIT %s", [self.loose, high, low, take])]
                for start in range(0, len(candidates), 200):
                    part = candidates[start:start + 200]
                    # With the ids' span, so that only the partitions holding them are read.
                    yield self._fetch(
                        f"SELECT {self.columns} FROM {self.sql_from} WHERE {self.where} AND f.entry_id = ANY(%s) "
                        f"AND f.entry_id BETWEEN %s AND %s ORDER BY f.entry_id DESC",
                        [*self.params, part, part[-1], part[0]], by_id=True)
                if len(candidates) < take:
                    break
                high = candidates[-1]

    def _ranked_rows(self) -> list[tuple[int, str, int]]:
        """Every matching row (the count found at most COUNT_CAP objects), those whose title holds every
        word first (a contract's number and title, a document's title, a customer's name), then newest
        first. No term statistics: bm25's and ts_rank's cost grows with the whole index (FTS5 counts
        every row holding a phrase for its weight; ts_rank reads each row's vector), this with the hits."""
        if self.ranked is None:
            sql_from = self.sql_from
            if " JOIN " not in sql_from:  # PostgreSQL without range filters: the titles are in the entries
                sql_from += f" JOIN {ENTRY_TABLE} e ON e.id = f.entry_id"
            self.ranked = self._rank(self._fetch(f"SELECT {self.columns}, e.title FROM {sql_from} WHERE {self.where} "
                                                 f"ORDER BY {self.rowid} DESC", self.params))
        return self.ranked

    def _rank(self, rows: list[tuple]) -> list[tuple[int, str, int]]:
        """(entry id, kind, object id, title) rows, newest first, as (entry id, kind, object id): those
        whose title holds every word first (a stable sort keeps each group newest first)."""
        words = [part for phrase in self.phrases for part, _cjk in phrase.parts]
        titled = [not all(word in normalize(title) for word in words) for _id, _kind, _object_id, title in rows]
        return [row[:3] for _titled, row in sorted(zip(titled, rows, strict=True), key=lambda pair: pair[0])]

    def first_objects(self, *, ranked: bool, wanted: int) -> list[tuple[int, str, int]]:
        """The first `wanted` distinct objects as (entry id, kind, object id): a long document has
        several chunks, and only its best (or newest) chunk counts."""
        only = self.args[4]
        if self.postgres and only:
            # One object (a contract whose number is the query): its own entries, found by key and
            # tested one by one, never a partition's bitmap.
            rows = self._fetch(f"SELECT {self.columns} FROM {self.sql_from} WHERE {self.where} AND f.entry_id IN "
                               f"(SELECT id FROM {ENTRY_TABLE} WHERE kind = %s AND object_id = %s) "
                               f"ORDER BY f.entry_id DESC", [*self.params, *only], by_id=True)
            return self.objects(rows)[:wanted]
        if self.postgres and not ranked:
            # Newest first, reading on through the batches until the objects are enough.
            rows: list[tuple[int, str, int]] = []
            check = wanted + 10
            for batch in self._newest_batches(check):
                rows += batch
                if len(rows) >= check:
                    objects = self.objects(rows)
                    if len(objects) >= wanted:
                        return objects[:wanted]
                    check = len(rows) + max(wanted - len(objects), len(rows) // 2)
            return self.objects(rows)[:wanted]
        limit = wanted + 10
        while True:
            rows = self.rows(ranked=ranked, limit=limit)
            objects = self.objects(rows)
            if len(objects) >= wanted or len(rows) < limit:
                return objects[:wanted]
            limit *= 4

    def objects(self, rows: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
        """Each object of the matching rows once, in the order it first appears, with its first
        chunk's entry (or its whole entry: see `snippet_entries`). VERIFY: an object matched only
        by its whole entry stays when each multi-token word is in one of its chunks."""
        whole = _whole_ids(row[0] for row in rows) if self.mode != CHUNKS else set()
        order: list[tuple[str, int]] = []
        direct: dict[tuple[str, int], int] = {}
        by_whole: dict[tuple[str, int], int] = {}
        for entry_id, kind, object_id in rows:
            key = (kind, object_id)
            if key not in direct and key not in by_whole:
                order.append(key)
            (by_whole if entry_id in whole else direct).setdefault(key, entry_id)
        if self.mode == VERIFY:
            self._verify([key for key in order if key not in direct and key not in self.verified])
        out = []
        for key in order:
            if key in direct:
                out.append((direct[key], *key))
            elif self.mode != VERIFY:
                out.append((by_whole[key], *key))
            elif self.verified.get(key) is not None:
                out.append((self.verified[key] or by_whole[key], *key))
        return out

    def _verify(self, keys: list[tuple[str, int]], *, many: bool = False) -> None:
        """Check candidates matched by their whole entry: every multi-token word must be in one of
        their chunks. Records in `verified` the chunk found (0: verified, chunk not known) or None.

        A few candidates (a page): a lookup of each one's own chunks, stopping at the first that
        holds the word. `many` (counting, SQLite): first try to list the objects whose chunks hold
        the word, within the search's keys, up to PHRASE_SCAN_ROWS chunk rows (FTS5 reads the
        word's postings in one pass): a rare word then answers every candidate by membership, where
        looking up candidates that mostly fail would read all their chunks. A frequent word (over
        the limit) falls back to the lookups, which then mostly succeed at the first chunk."""
        if not keys:
            return
        remaining = set(keys)
        first: dict[tuple[str, int], int] = {}
        for phrase in self.phrases:
            if len(phrase.tokens) < 2 or not remaining:
                continue
            if many and not self.postgres and phrase not in self.phrase_objects:
                self.phrase_objects[phrase] = self._phrase_objects(phrase)
            objects = self.phrase_objects.get(phrase)
            if objects is not None:
                remaining &= objects
                continue
            expression = _ts_phrase(phrase) if self.postgres else _fts5_phrase(phrase)
            found = _parts_matching(remaining, expression, by_id=_by_id)
            remaining &= set(found)
            for key in remaining:
                first.setdefault(key, found[key])
        for key in keys:
            self.verified[key] = first.get(key, 0) if key in remaining else None

    def _phrase_objects(self, phrase: Phrase) -> set[tuple[str, int]] | None:
        """SQLite: the objects with a chunk or short entry holding the phrase (and the search's keys),
        or None when that is more than PHRASE_SCAN_ROWS rows."""
        expression = _expression([phrase], self.args[1], CHUNKS, postgres=False)
        # Not injectable (bandit B608): the table name is a constant, the values parameters.
        rows = self._fetch(f"SELECT e.kind, e.object_id FROM search_fts JOIN {ENTRY_TABLE} e "  # nosec B608
                           f"ON e.id = search_fts.rowid WHERE search_fts MATCH %s LIMIT %s",
                           [expression, PHRASE_SCAN_ROWS + 1])
        return None if len(rows) > PHRASE_SCAN_ROWS else set(rows)


# --- the search -----------------------------------------------------------------------------------

def _exact_contract(q: str, user) -> int | None:
    """A query that is a contract number: that contract (if the user may see it) comes first."""
    q = q.strip()
    if not q or " " in q or not any(ch.isdigit() for ch in q) or len(q) > 64:
        return None
    candidates = {q, q.upper()}
    qs = visible(user, Contract.objects.live().filter(number__in=candidates))
    return qs.values_list("pk", flat=True).first()


def query_phrases(q: str) -> list[Phrase]:
    """The query's phrases as the live index is searched: once it holds character tokens (format 2),
    a word of one CJK character reads that one list."""
    phrases = parse_query(q)
    if read_state()[0] >= 2:
        phrases = [as_char_token(phrase) for phrase in phrases]
    return phrases


def search(*, user, q: str, filters: Mapping | None = None, limit: int = 20, offset: int = 0) -> SearchResults:
    """Search what `user` may see for `q` (words ANDed, "quoted phrases", a trailing single Chinese
    character as a prefix), narrowed by ContractFilter-style `filters` and `type` (kinds)."""
    filters = filters or {}
    phrases = query_phrases(q or "")
    results = SearchResults(phrases=phrases, no_words=bool((q or "").strip()) and not phrases)
    visibility = visibility_clause(user)
    if not phrases or visibility is False:
        return results
    clauses, ranges = filter_clauses(filters)
    if visibility is not None:
        clauses.insert(0, visibility)
    query = _Query(phrases, clauses, ranges)
    count = query.count(COUNT_CAP + 1)
    results.count_capped = count > COUNT_CAP
    results.count = min(count, COUNT_CAP)
    results.ranked = not results.count_capped
    if count == 0 or offset >= MAX_OFFSET:
        return results
    limit = max(0, min(limit, MAX_OFFSET - offset))

    pinned = None
    exact = _exact_contract(q, user)
    if exact is not None:
        found = _Query(phrases, clauses, ranges, only=(CONTRACT, exact)).first_objects(ranked=False, wanted=1)
        pinned = found[0] if found else None
    if pinned is not None and count == 1:
        rows = [pinned] if offset == 0 and limit else []  # the only hit: nothing else to look for
    elif pinned is not None:
        rest = _Query(phrases, clauses, ranges, exclude=(CONTRACT, pinned[2]))
        if offset == 0:
            rows = [pinned] + rest.first_objects(ranked=results.ranked, wanted=limit - 1) if limit else []
        else:
            rows = rest.first_objects(ranked=results.ranked, wanted=offset - 1 + limit)[offset - 1:]
    else:
        rows = query.first_objects(ranked=results.ranked, wanted=offset + limit)[offset:]
    results.hits = _hits(user, snippet_entries(rows, phrases), phrases)
    return results


def snippet_entries(rows, phrases: list[Phrase]) -> list[tuple[int, str, int]]:
    """The rows with each whole entry replaced by a chunk of its object that holds one of the words
    (for the snippet and page), or else its first chunk."""
    whole = {row[0] for row in rows} & _whole_ids(row[0] for row in rows)
    if not whole:
        return rows
    keys = [(kind, object_id) for entry_id, kind, object_id in rows if entry_id in whole]
    postgres = connection.vendor == "postgresql"
    if postgres:
        expression = " | ".join(_ts_phrase(p) for p in phrases)
    else:
        expression = " OR ".join(_fts5_phrase(p) for p in phrases)
    chunks = _parts_matching(keys, expression, by_id=_by_id)
    missing = [key for key in keys if key not in chunks]
    for kind, object_id in missing:
        first = SearchEntry.objects.filter(kind=kind, object_id=object_id, chunk=0).values_list("pk", flat=True).first()
        if first is not None:
            chunks[(kind, object_id)] = first
    return [(chunks.get((kind, object_id), entry_id), kind, object_id) if entry_id in whole else
            (entry_id, kind, object_id) for entry_id, kind, object_id in rows]


def _hits(user, rows, phrases) -> list[Hit]:
    """Hits for index rows, in order, read through the visibility rule (an entry the index still
    holds for an object the user may no longer see is dropped): each kind's `found` reads its
    objects among the page's in a fixed number of queries."""
    if not rows:
        return []
    entries = SearchEntry.objects.in_bulk([entry_id for entry_id, _kind, _object_id in rows])
    ids: dict[str, set[int]] = {}
    for _entry_id, kind, object_id in rows:
        ids.setdefault(kind, set()).add(object_id)
    found, kinds = {}, {}
    for name, object_ids in ids.items():
        kind = kinds[name] = search_kind(name)
        found[name] = kind.found(user, object_ids) if kind is not None else {}

    hits = []
    for entry_id, name, object_id in rows:
        entry = entries.get(entry_id)
        result = found[name].get(object_id)
        if entry is None or result is None or (result.version_id is not None and result.version_id != entry.version_id):
            continue
        snippet, offset = highlight(entry.text, phrases)
        # The page of the match the snippet shows, for texts with real pages only (Found.paged); none
        # when the text does not hold the query (the document's title matched).
        page = entry.page_at(offset) if offset is not None and result.paged else None
        hits.append(Hit(name, result.object, result.title, result.url, snippet, page=page, file=result.file,
                        label=kinds[name].label, badge=kinds[name].badge))
    return hits
