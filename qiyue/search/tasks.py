"""The indexing task, run by the worker: the objects apps queue with
`qiyue.core.search_kinds.reindex_later` after their change committed (installed in apps.py)."""

from django_tasks import task

from . import indexing

# Indexing takes milliseconds: ahead of queued text extractions (which may take minutes each), so
# a change is searchable within a second or two even while the worker has files to read.
INDEX_PRIORITY = 10


@task(priority=INDEX_PRIORITY)
def index_objects(kind: str, object_ids: list[int]) -> int:
    """Re-index these objects of a kind (and what follows their changes); returns the entries written.
    A failure is recorded on the task's result and logged; `qiyue reindex` repairs the index."""
    return indexing.index(kind, object_ids)


def enqueue_index(kind: str, object_ids: list[int]) -> None:
    index_objects.enqueue(kind, list(object_ids))


# After indexing and extraction: an upgrade's rebuild may take minutes at scale, and search stays
# complete while it runs.
REBUILD_PRIORITY = -10


@task(priority=REBUILD_PRIORITY)
def rebuild_index() -> int:
    """Rebuild the whole index beside the live one and switch to it (an upgrade that changed the
    index's format queues this); returns the entries written."""
    from .rebuild import rebuild

    # In this process: the worker runs periodic jobs in a thread, and forking a process with threads
    # may copy a lock mid-use. Search stays complete meanwhile, so the extra time costs nothing.
    return rebuild(workers=0)


def enqueue_rebuild() -> None:
    rebuild_index.enqueue()
