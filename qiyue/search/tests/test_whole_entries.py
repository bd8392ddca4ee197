"""Whole entries at their edges: a long text without a word, and one with more distinct words than a
PostgreSQL tsvector holds."""

from qiyue.core.search_kinds import IndexRow
from qiyue.search import indexing
from qiyue.search.indexing import WHOLE_CHUNK, entries_of, entry_bodies, entry_tsvectors


def test_a_long_text_without_a_word_gets_an_empty_whole_entry():
    entries = entries_of([IndexRow(kind="document", object_id=1, title="——", text="—" * 9000)])
    assert len(entries) > 2 and entries[-1].chunk == WHOLE_CHUNK
    bodies = entry_bodies(entries)  # raised "without its chunks" before
    assert bodies[-1].split() == ["_kdocument", "_w"]
    assert entry_tsvectors(entries)[-1] == "'_kdocument' '_w'"


def test_a_whole_entry_too_big_for_postgresql_keeps_its_keys_only(monkeypatch):
    row = IndexRow(kind="document", object_id=2, title="", text=" ".join(f"sku{n:07d}" for n in range(2000)))
    entries = entries_of([row])
    assert entries[-1].chunk == WHOLE_CHUNK
    whole = entry_tsvectors(entries)[-1]
    assert "'sku0001999'" in whole
    monkeypatch.setattr(indexing, "MAX_WHOLE_TSVECTOR_BYTES", 1000)
    assert entry_tsvectors(entries)[-1] == "'_kdocument' '_w'"
    assert "'sku0000001'" in entry_tsvectors(entries)[0]  # the chunks keep their words
