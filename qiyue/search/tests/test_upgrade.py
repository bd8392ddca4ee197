"""Upgrading an index written before whole-document entries: the migration queues the long texts that
lack one, and nothing else, for the worker to index again."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from qiyue.search import tasks
from qiyue.search.indexing import WHOLE_CHUNK
from qiyue.search.models import SearchEntry

migration = importlib.import_module("qiyue.search.migrations.0005_whole_entries")

pytestmark = pytest.mark.django_db


def test_the_migration_queues_long_texts_without_a_whole_entry(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_index", lambda kind, ids: queued.append((kind, list(ids))))
    rows = [("doc", 1, 0), ("doc", 1, 1), ("doc", 1, 2),          # chunked, written before: queued
            ("doc", 2, 0), ("doc", 2, 1), ("doc", 2, WHOLE_CHUNK),  # chunked, already whole: left alone
            ("doc", 3, 0),                                          # short: left alone
            ("contract", 9, 0)]
    SearchEntry.objects.bulk_create(SearchEntry(kind=k, object_id=o, chunk=c) for k, o, c in rows)
    assert migration.WHOLE_CHUNK == WHOLE_CHUNK
    migration.queue_chunked_texts(apps, SimpleNamespace(connection=connection))
    assert queued == [("doc", [1])]


def test_an_index_without_long_texts_queues_nothing(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_index", lambda kind, ids: queued.append((kind, ids)))
    migration.queue_chunked_texts(apps, SimpleNamespace(connection=connection))
    assert queued == []
