"""The search kinds apps register, and the queue that keeps the index in step after commit.

The search app sits above the apps it searches, so it cannot know them, and they cannot import it.
Each searchable app therefore declares a `SearchKind` in its own `search.py` and registers it from
its AppConfig.ready(); the search app indexes, rebuilds and shows hits by looping over
`search_kinds()`. A kind says how to build the index rows of its objects, how to stream all of them
for a rebuild, how to turn hits into results the user may see, and which changes of objects of
other (lower) kinds require re-indexing its own (a document follows its contract's keys).

Writes call `reindex_later(kind, ids)` inside their transaction: after commit the objects are queued,
once each however often they changed, to the indexing task the search app installs with
`set_index_queue` (with no search app installed, nothing is queued).
"""

import datetime
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.functional import Promise


@dataclass(slots=True)
class IndexRow:
    """An entry about to be written (the search index's columns, without a model instance's cost).

    A kind yields one row per object with its whole text; the search app splits long texts into
    chunks. For a paged text (a document), `page` is the page the text starts on and `page_breaks`
    the offsets in `text` where later pages start."""

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


@dataclass(frozen=True)
class Found:
    """One hit's object as the user may see it: what the result shows and where it leads."""

    object: Any
    title: str
    url: str
    file: str = ""
    # The version the entry must be of (documents): an entry of an older version is not a hit.
    version_id: int | None = None
    # Whether the text has real pages (a PDF or a scan), so a hit may name the page of its match;
    # a DOCX or XLSX has none, whatever its index rows count.
    paged: bool = False


@dataclass(frozen=True)
class Follow:
    """Re-index objects of this kind when objects of another kind changed in one of `columns` of
    their first index row (or appeared or disappeared): `ids(changed ids)` names them."""

    columns: tuple[str, ...]
    ids: Callable[[list[int]], Iterable[int]]


@dataclass(frozen=True)
class SearchKind:
    """A searchable kind of object.

    - `rows(ids)`: index rows of the live objects among `ids`, read with select_for_update so that
      two runs indexing one object are serialised (called inside the indexing transaction);
    - `stream(batch)`: (creation time, rows) of every live object, oldest first, read `batch` at a time
      (the rebuild merges the kinds' streams by creation time: the newest get the highest ids);
    - `found(user, ids)`: {id: Found} for the objects among `ids` the user may see, in a fixed number
      of queries whatever the number of ids;
    - `follows`: {other kind: Follow}, the changes of other kinds this kind's entries depend on;
    - `title_tokens`: the title is searched too (a document's title is not in its text);
    - `badge`: the Bootstrap colour of the kind's badge on the results page;
    - `batch`: objects indexed per transaction.
    """

    name: str
    label: Promise | str
    rows: Callable[[list[int]], list[IndexRow]]
    stream: Callable[[int], Iterator[tuple[datetime.datetime, list[IndexRow]]]]
    found: Callable[..., Mapping[int, Found]]
    follows: Mapping[str, Follow] = field(default_factory=dict)
    title_tokens: bool = False
    badge: str = "secondary"
    batch: int = 500


_kinds: dict[str, SearchKind] = {}


def register_search_kind(kind: SearchKind) -> SearchKind:
    """Make `kind` searchable (from an AppConfig.ready()); registering a name again replaces it."""
    if not kind.name.isidentifier() or len(kind.name) > 10:
        raise ValueError(f"search kind {kind.name!r}: at most 10 letters, digits or underscores")
    _kinds[kind.name] = kind
    return kind


def unregister_search_kind(name: str) -> None:
    _kinds.pop(name, None)


def search_kinds() -> list[SearchKind]:
    """The registered kinds, in the order they were registered."""
    return list(_kinds.values())


def search_kind(name: str) -> SearchKind | None:
    return _kinds.get(name)


def kind_choices() -> list[tuple[str, Promise | str]]:
    return [(kind.name, kind.label) for kind in _kinds.values()]


# --- indexing after commit --------------------------------------------------------------------------

_queue: list[Callable[[str, list[int]], None]] = []
_pending = threading.local()


def set_index_queue(enqueue: Callable[[str, list[int]], None] | None) -> None:
    """The function that queues (kind, object ids) for indexing (installed by the search app)."""
    _queue[:] = [enqueue] if enqueue is not None else []


def reindex_later(kind: str, *object_ids: int) -> None:
    """Queue these objects for indexing once the current transaction commits (at once outside one),
    each once however often it changed in the transaction; a rolled-back transaction queues nothing."""
    keys = _pending.__dict__.setdefault("keys", set())
    mine = [(kind, pk) for pk in object_ids if pk is not None]
    keys.update(mine)

    def enqueue():
        ids = sorted({pk for _kind, pk in mine if (kind, pk) in keys})
        keys.difference_update(mine)
        if ids and _queue:
            _queue[0](kind, ids)

    # A failure to queue (the database backend unreachable) is logged, never raised into the request
    # that already committed its change: `qiyue reindex` repairs the index.
    transaction.on_commit(enqueue, robust=True)
