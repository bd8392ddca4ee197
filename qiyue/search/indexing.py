"""Writing the search index: what an entry holds, its token stream, and keeping it in step.

An object is (re)indexed by deleting its entries and inserting fresh ones, so its entries always
match its current state and the newest change has the highest id. The token stream of an entry
is a pure function of the entry's row (`entry_body`): on SQLite the FTS5 table keeps no copy of it
(contentless), and a delete re-derives it from the row. After a change to the tokenizer, run
`qiyue reindex`.
"""

import datetime
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import F, Q

from qiyue.contracts.models import Contract
from qiyue.customers.models import Customer
from qiyue.documents.models import Document, DocumentText

from .models import Kind, SearchEntry
from .tokenizer import MAX_QUERY_CHARS, is_cjk, tokenize

log = logging.getLogger(__name__)

ENTRY_TABLE = SearchEntry._meta.db_table
# Chunks of long texts: at most this many characters (a character gives at most one token, so
# positions stay far below PostgreSQL's 16,383), overlapping by the longest query phrase so a
# phrase that crosses a boundary is still found whole in one chunk.
CHUNK_CHARS = 4000
# PostgreSQL keeps at most 256 positions of one lexeme in a tsvector: a chunk that repeats a token
# more often is split further.
MAX_REPEATS = 250

# Columns written by `_insert` (besides id), in order.
COLUMNS = ("kind", "object_id", "chunk", "contract_id", "customer_id", "version_id", "owner_id", "team_id",
           "status", "nature", "subject_matter", "signing_form", "signing_date", "effective_date",
           "expiry_date", "amount", "title", "text", "page", "page_breaks")
# The key columns that become tokens: a change to one of them changes every entry's stream.
KEY_COLUMNS = ("owner_id", "team_id", "customer_id", "status", "nature", "subject_matter", "signing_form")
# Contract columns copied onto the contract's entries and those of its documents.
CONTRACT_FACETS = ("status", "nature", "subject_matter", "signing_form", "signing_date", "effective_date",
                   "expiry_date", "amount")


@dataclass(slots=True)
class IndexRow:
    """An entry about to be written (SearchEntry's columns, without a model instance's cost)."""

    kind: str
    object_id: int
    chunk: int = 0
    contract_id: int | None = None
    customer_id: int | None = None
    version_id: int | None = None
    owner_id: int | None = None
    team_id: int | None = None
    status: str = ""
    nature: str = ""
    subject_matter: str = ""
    signing_form: str = ""
    signing_date: datetime.date | None = None
    effective_date: datetime.date | None = None
    expiry_date: datetime.date | None = None
    amount: Decimal | None = None
    title: str = ""
    text: str = ""
    page: int | None = None
    page_breaks: list = field(default_factory=list)
    pk: int | None = None


# --- token streams --------------------------------------------------------------------------------

def key_tokens(entry: SearchEntry) -> list[str]:
    """Tokens for visibility and filters. They start with "_", which no text token does."""
    keys = [f"_k{entry.kind}"]
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


def text_tokens(entry: SearchEntry) -> list[str]:
    tokens = tokenize(entry.title) if entry.kind == Kind.DOCUMENT and entry.chunk == 0 else []
    return tokens + tokenize(entry.text)


def entry_body(entry: SearchEntry) -> str:
    """The space-separated stream FTS5 indexes (SQLite)."""
    return " ".join(text_tokens(entry) + key_tokens(entry))


def entry_tsvector(entry: SearchEntry) -> str:
    """The same stream as a tsvector literal (PostgreSQL): positions from 1; keys have none."""
    positions: dict[str, list[str]] = {}
    for position, token in enumerate(text_tokens(entry), start=1):
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


# --- building entries -----------------------------------------------------------------------------

def _contract_keys(contract) -> dict:
    values = {name: getattr(contract, name) for name in CONTRACT_FACETS}
    values.update(contract_id=contract.pk, customer_id=contract.customer_id, owner_id=contract.owner_id,
                  team_id=contract.team_id)
    return values


def _is_live_contract(contract) -> bool:
    return getattr(contract, "deleted_at", None) is None


def contract_text(contract, customer_name: str) -> str:
    parts = (contract.number, contract.title, customer_name, contract.our_entity,
             contract.counterparty_signatory, contract.tags.replace(",", "，"), contract.description)
    return " · ".join(p for p in parts if p)


def contract_entries(contract, customer_name: str) -> list[IndexRow]:
    text = contract_text(contract, customer_name)
    title = f"{contract.number} {contract.title}"
    return [IndexRow(kind=Kind.CONTRACT, object_id=contract.pk, chunk=n, title=title[:300],
                        text=text[start:end], **_contract_keys(contract))
            for n, (start, end) in enumerate(chunk_spans(text))]


def customer_text(customer) -> str:
    parts = (customer.name, customer.credit_code or "", customer.tags.replace(",", "，"), customer.address)
    return " · ".join(p for p in parts if p)


def customer_entries(customer) -> list[IndexRow]:
    return [IndexRow(kind=Kind.CUSTOMER, object_id=customer.pk, customer_id=customer.pk,
                        owner_id=customer.owner_id, team_id=customer.team_id, title=customer.name[:300],
                        text=customer_text(customer))]


def document_entries(document, text: DocumentText, owner) -> list[IndexRow]:
    """Entries for a document's current text; `owner` is its contract (or its customer)."""
    keys = (_contract_keys(owner) if isinstance(owner, Contract)
            else {"customer_id": owner.pk, "owner_id": owner.owner_id, "team_id": owner.team_id})
    pages = sorted(text.pages or [])
    entries = []
    for n, (start, end) in enumerate(chunk_spans(text.text or "")):
        page = sum(1 for p in pages if p <= start) or 1
        breaks = [p - start for p in pages if start < p < end]
        entries.append(IndexRow(kind=Kind.DOCUMENT, object_id=document.pk, chunk=n,
                                   version_id=text.version_id, title=document.title[:300],
                                   text=text.text[start:end], page=page, page_breaks=breaks, **keys))
    return entries


# --- the two databases ----------------------------------------------------------------------------

def _allocate_ids(cursor, n: int) -> list[int]:
    """n new entry ids above every id ever used (called inside the writing transaction)."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [ENTRY_TABLE, n])
        return [row[0] for row in cursor.fetchall()]
    # SQLite: the write lock is held since BEGIN (IMMEDIATE), so nobody else takes these ids.
    cursor.execute(f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
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
        cursor.executemany(f"INSERT INTO {ENTRY_TABLE} ({columns}) VALUES ({marks})",
                           [_db_row(e, connection.vendor == "sqlite") for e in entries])
        if connection.vendor == "postgresql":
            cursor.executemany("INSERT INTO search_tsv (entry_id, kind, object_id, tsv) "
                               "VALUES (%s, %s, %s, %s::tsvector)",
                               [(e.pk, e.kind, e.object_id, entry_tsvector(e)) for e in entries])
        else:
            cursor.executemany("INSERT INTO search_fts (rowid, body) VALUES (%s, %s)",
                               [(e.pk, entry_body(e)) for e in entries])


def delete_entries(entries: list[SearchEntry]) -> None:
    """Delete entries and their full-text rows (the rows must be as stored)."""
    if not entries:
        return
    ids = [e.pk for e in entries]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DELETE FROM search_tsv WHERE entry_id = ANY(%s)", [ids])
        else:
            cursor.executemany("INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', %s, %s)",
                               [(e.pk, entry_body(e)) for e in entries])
        SearchEntry.objects.filter(pk__in=ids).delete()


def clear_index() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE search_tsv, {ENTRY_TABLE}")
        else:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            cursor.execute(f"DELETE FROM {ENTRY_TABLE}")


def replace(kind: str, object_ids: Iterable[int], entries: list[IndexRow]) -> None:
    """Make `entries` the index's entries for these objects (locking them against a concurrent run)."""
    object_ids = list(object_ids)
    with transaction.atomic():
        old = list(SearchEntry.objects.select_for_update().filter(kind=kind, object_id__in=object_ids))
        delete_entries(old)
        insert_entries(entries)


# --- following changes ----------------------------------------------------------------------------

def _contract_rows(ids: Iterable[int]):
    return Contract.objects.filter(pk__in=list(ids)).select_related("customer")


def index_contracts(contract_ids: Iterable[int]) -> None:
    """Re-index contracts; when a contract's keys (owner, team, status …) changed, its documents'
    entries are re-keyed too, since visibility and filters of a document follow its contract."""
    contract_ids = list(contract_ids)
    with transaction.atomic():
        contracts = {c.pk: c for c in _contract_rows(contract_ids).select_for_update(of=("self",))}
        before = {e.object_id: e for e in SearchEntry.objects.filter(kind=Kind.CONTRACT, chunk=0,
                                                                     object_id__in=contract_ids)}
        entries = []
        rekey = []
        for pk in contract_ids:
            contract = contracts.get(pk)
            live = contract is not None and _is_live_contract(contract)
            if live:
                entries.extend(contract_entries(contract, contract.customer.name))
            old = before.get(pk)
            if not live or old is None or any(getattr(old, k) != v for k, v in _contract_keys(contract).items()):
                rekey.append(pk)
        replace(Kind.CONTRACT, contract_ids, entries)
        if rekey:
            documents = Document.objects.filter(contract_id__in=rekey).values_list("pk", flat=True)
            index_documents(list(documents))


def index_customers(customer_ids: Iterable[int]) -> None:
    """Re-index customers; a new name reaches their contracts' entries, new owners or teams reach
    their own documents' entries."""
    customer_ids = list(customer_ids)
    with transaction.atomic():
        customers = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=customer_ids)}
        before = {e.object_id: e for e in SearchEntry.objects.filter(kind=Kind.CUSTOMER, object_id__in=customer_ids)}
        entries = []
        renamed, rekeyed = [], []
        for pk in customer_ids:
            customer = customers.get(pk)
            if customer is not None:
                entries.extend(customer_entries(customer))
            old = before.get(pk)
            if customer is None or old is None or old.title != customer.name[:300]:
                renamed.append(pk)
            if customer is None or old is None or (old.owner_id, old.team_id) != (customer.owner_id,
                                                                                  customer.team_id):
                rekeyed.append(pk)
        replace(Kind.CUSTOMER, customer_ids, entries)
    if renamed:
        contract_ids = list(Contract.objects.filter(customer_id__in=renamed).values_list("pk", flat=True))
        for start in range(0, len(contract_ids), 500):
            index_contracts(contract_ids[start:start + 500])
    if rekeyed:
        index_documents(list(Document.objects.filter(customer_id__in=rekeyed, contract__isnull=True)
                             .values_list("pk", flat=True)))


def _owner_of(document):
    if document.contract_id is not None:
        contract = document.contract
        return contract if _is_live_contract(contract) else None
    return document.customer


def index_documents(document_ids: Iterable[int]) -> None:
    """Re-index documents: the text of the current version of a live document, or nothing."""
    document_ids = list(document_ids)
    for start in range(0, len(document_ids), 100):
        batch = document_ids[start:start + 100]
        with transaction.atomic():
            documents = list(Document.objects.select_for_update(of=("self",)).filter(pk__in=batch)
                             .select_related("contract", "customer"))
            texts = {t.version_id: t for t in DocumentText.objects.filter(
                version_id__in=[d.current_version_id for d in documents if d.current_version_id])}
            entries = []
            for document in documents:
                text = texts.get(document.current_version_id)
                owner = _owner_of(document)
                if document.deleted_at is None and text is not None and owner is not None:
                    entries.extend(document_entries(document, text, owner))
            replace(Kind.DOCUMENT, batch, entries)


def index_version(version_id: int) -> None:
    """A version's text was extracted: index it if it is its document's current version."""
    document_ids = list(Document.objects.filter(current_version_id=version_id).values_list("pk", flat=True))
    index_documents(document_ids)


def safely(function, *args) -> None:
    """Run an indexing step after commit: a failure is logged (reindex repairs it), never raised
    into the request that already committed its change."""
    try:
        function(*args)
    except Exception:
        log.exception("search indexing failed: %s%r", function.__name__, args)


# --- rebuilding everything ------------------------------------------------------------------------

def _merged_by_created(*streams: Iterator) -> Iterator:
    import heapq

    return heapq.merge(*streams, key=lambda item: item[0])


def _contracts_stream(batch: int) -> Iterator:
    fields = ("id", "number", "title", "our_entity", "counterparty_signatory", "tags", "description",
              "customer_id", "owner_id", "team_id", "created_at", *CONTRACT_FACETS)
    qs = Contract.objects.live().values(*fields, customer_name=F("customer__name"))
    for row in _keyset(qs, batch):
        contract = SimpleNamespace(pk=row["id"], **row)
        yield contract.created_at, contract_entries(contract, contract.customer_name)


def _customers_stream(batch: int) -> Iterator:
    qs = Customer.objects.values("id", "name", "credit_code", "tags", "address", "owner_id", "team_id", "created_at")
    for row in _keyset(qs, batch):
        customer = SimpleNamespace(pk=row["id"], **row)
        yield customer.created_at, customer_entries(customer)


def _documents_stream(batch: int) -> Iterator:
    live = Q(contract__isnull=True) | Q(contract__deleted_at__isnull=True)
    qs = (Document.objects.live().filter(live, current_version__isnull=False)
          .select_related("contract", "customer"))
    for chunk in _keyset_batches(qs, max(10, batch // 20)):
        texts = {t.version_id: t for t in DocumentText.objects.filter(
            version_id__in=[d.current_version_id for d in chunk])}
        for document in chunk:
            text = texts.get(document.current_version_id)
            if text is not None:
                yield document.created_at, document_entries(document, text, _owner_of(document))


def _keyset_batches(qs, batch: int) -> Iterator[list]:
    last = 0
    while True:
        rows = list(qs.filter(pk__gt=last).order_by("pk")[:batch])
        if not rows:
            return
        yield rows
        last = rows[-1]["id"] if isinstance(rows[-1], dict) else rows[-1].pk


def _keyset(qs, batch: int) -> Iterator:
    for rows in _keyset_batches(qs, batch):
        yield from rows


def reindex_all(*, batch: int = 2000, progress=None) -> int:
    """Rebuild the whole index: customers, contracts and documents interleaved by creation time,
    so the newest objects get the highest ids. Returns the number of entries."""
    clear_index()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Fresh statistics first: after a bulk load or a restore the planner may think the
            # document table is empty and scan all of it for every batch (a second per 100 rows).
            cursor.execute(f"ANALYZE {Document._meta.db_table}, {DocumentText._meta.db_table}, "
                           f"{Contract._meta.db_table}, {Customer._meta.db_table}")
            # Building the GIN index once at the end is much faster than maintaining it row by row.
            cursor.execute("DROP INDEX IF EXISTS search_tsv_gin")
    total = objects = reported = 0
    pending: list[IndexRow] = []
    try:
        for _created, entries in _merged_by_created(_customers_stream(batch), _contracts_stream(batch),
                                                    _documents_stream(batch)):
            pending.extend(entries)
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
