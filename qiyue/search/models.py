"""The search index: one SearchEntry per indexed object, or per chunk of a long text (a document's
current text) plus one "whole" entry holding the distinct tokens of that text (see
indexing.WHOLE_CHUNK), of the kinds apps register (qiyue.core.search_kinds), and beside it the full-text table that only the database reads:

- SQLite: `search_fts`, an FTS5 table without content (rowid = SearchEntry.id) over the
  pre-tokenized stream, split on spaces by FTS5's ascii tokenizer;
- PostgreSQL: `search_tsv(entry_id, tsv)`, a tsvector built from the same stream, with a GIN index.

Both are created by migration 0002 for the database in use. The stream holds the text's tokens
(see tokenizer.py) and key tokens for visibility and filters (see indexing.key_tokens), so a
search, its visibility rule and its filters are answered by the full-text index alone.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    """What the index knows about one hit: the object, its visibility keys, its filter values and
    the original text of the chunk (for snippets). Ids only grow (AUTOINCREMENT on SQLite), and an
    object is re-indexed by deleting its entries and inserting new ones, so the newest or most
    recently changed objects have the highest ids: "newest first" is a scan of the index in
    descending id order, which both full-text indexes do without sorting."""

    # The registered search kind's name (qiyue.core.search_kinds): "contract", "customer", "document" …
    kind = models.CharField(max_length=10)
    object_id = models.BigIntegerField()
    chunk = models.PositiveIntegerField(default=0)
    contract_id = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    version_id = models.BigIntegerField(null=True, blank=True)
    # Visibility: the owner and team of the contract (documents on a contract) or of the customer.
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    # Filter values of the contract (empty for customers and their own documents).
    status = models.CharField(max_length=20, blank=True)
    nature = models.CharField(max_length=20, blank=True)
    subject_matter = models.CharField(max_length=20, blank=True)
    signing_form = models.CharField(max_length=20, blank=True)
    signing_date = models.DateField(null=True, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    # Documents: the page the chunk starts on, and where later pages start within the chunk.
    page = models.PositiveIntegerField(null=True, blank=True)
    page_breaks = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        indexes = [models.Index(fields=["kind", "object_id"], name="search_entry_object"),
                   models.Index(fields=["contract_id"], name="search_entry_contract"),
                   models.Index(fields=["customer_id", "kind"], name="search_entry_customer")]

    def __str__(self):
        return f"{self.kind} {self.object_id}/{self.chunk}"

    def page_at(self, offset: int) -> int | None:
        """The page of a character offset within this chunk."""
        if self.page is None:
            return None
        return self.page + sum(1 for start in self.page_breaks if start <= offset)


class TsVectorField(models.Field):
    """A tsvector on PostgreSQL; on SQLite the column exists but stays empty (FTS5 is used)."""

    description = "PostgreSQL tsvector"

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"


class EntryVector(models.Model):
    """PostgreSQL's full-text side table: the token stream of one entry as a tsvector (GIN index)."""

    entry_id = models.BigIntegerField(primary_key=True)
    # Copies of the entry's kind and object, so counting and paging need not join the entries.
    kind = models.CharField(max_length=10, default="")
    object_id = models.BigIntegerField(default=0)
    tsv = TsVectorField()

    class Meta:
        db_table = "search_tsv"
        verbose_name = _("search vector")
        verbose_name_plural = _("search vectors")

    def __str__(self):
        return str(self.entry_id)


class IndexState(models.Model):
    """One row (id 1): the format of the index's token streams, and whether `qiyue reindex` is
    building a new index beside the live one (see rebuild.py). Formats only grow: a rebuild writes the
    current one (indexing.FORMAT) and switches to it; until then, writes and queries keep the live
    index's format."""

    format = models.PositiveSmallIntegerField(default=1)
    rebuilding = models.BooleanField(default=False)
    # A running rebuild touches the row every few seconds: a rebuild that was killed stops counting
    # as running after indexing.REBUILD_STALE (changes are no longer noted for it).
    touched_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("search index state")
        verbose_name_plural = _("search index states")

    def __str__(self):
        return f"format {self.format}" + (" (rebuilding)" if self.rebuilding else "")


class PendingChange(models.Model):
    """An object indexed while a rebuild was running: the rebuild may have read it before the change,
    so it is indexed again once the new index is live."""

    kind = models.CharField(max_length=10)
    object_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("pending search change")
        verbose_name_plural = _("pending search changes")

    def __str__(self):
        return f"{self.kind} {self.object_id}"
