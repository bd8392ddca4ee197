"""Long texts get a whole-document entry beside their chunks (the words of an AND may stand in different
chunks). Texts indexed before have none: queue them for the worker to index again, so an upgraded
installation finds them without a manual `qiyue reindex`."""

from django.db import migrations
from django.db.models import Q

# qiyue.search.indexing.WHOLE_CHUNK, as it was when this migration was written.
WHOLE_CHUNK = 999_999
BATCH = 500


def queue_chunked_texts(apps, schema_editor):
    entry = apps.get_model("search", "SearchEntry")
    entries = entry.objects.using(schema_editor.connection.alias)
    whole = set(entries.filter(chunk=WHOLE_CHUNK).values_list("kind", "object_id"))
    chunked = sorted(set(entries.filter(Q(chunk__gt=0) & Q(chunk__lt=WHOLE_CHUNK))
                         .values_list("kind", "object_id").distinct()) - whole)
    if not chunked:
        return
    from qiyue.search.tasks import enqueue_index

    by_kind: dict[str, list[int]] = {}
    for kind, object_id in chunked:
        by_kind.setdefault(kind, []).append(object_id)
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), BATCH):
            enqueue_index(kind, ids[start:start + BATCH])


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_alter_searchentry_kind"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]
    operations = [migrations.RunPython(queue_chunked_texts, migrations.RunPython.noop)]
