"""PostgreSQL: search_tsv becomes a table partitioned by ranges of entry ids, each with its own GIN
index, so a search reads the newest range first (see qiyue/search/partitions.py). An empty index is
converted here; one that holds entries stays as it is, searched and written as before, and the worker
rebuilds it beside the live one (`qiyue reindex`), which writes the partitioned table. SQLite: nothing."""

from django.db import migrations

# qiyue.search.partitions.PARTITION_IDS, as it was when this migration was written.
PARTITION_IDS = 50_000


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('search_tsv')")
        if cursor.fetchone()[0] == "p":
            return
        cursor.execute("SELECT EXISTS (SELECT 1 FROM search_tsv)")
        if cursor.fetchone()[0]:
            from qiyue.search.tasks import enqueue_rebuild

            enqueue_rebuild()
            return
        cursor.execute("CREATE TABLE search_tsv_parted (LIKE search_tsv INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                       "INCLUDING STORAGE) PARTITION BY RANGE (entry_id)")
        cursor.execute("DROP TABLE search_tsv")
        cursor.execute("ALTER TABLE search_tsv_parted RENAME TO search_tsv")
        cursor.execute("ALTER TABLE search_tsv ADD CONSTRAINT search_tsv_pkey PRIMARY KEY (entry_id)")
        cursor.execute("CREATE INDEX search_tsv_gin ON search_tsv USING gin (tsv) WITH (fastupdate = off)")
        # The first ranges (writers add the others as ids reach them).
        cursor.execute("SELECT coalesce(max(id), 0) FROM search_searchentry")
        top = cursor.fetchone()[0] // PARTITION_IDS + 1
        for n in range(top + 1):
            # Not injectable (bandit B608): numbers only.
            cursor.execute(f"CREATE TABLE search_tsv_p{n} PARTITION OF search_tsv FOR VALUES FROM "  # nosec B608
                           f"({n * PARTITION_IDS}) TO ({(n + 1) * PARTITION_IDS})")


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0006_index_state"),
    ]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
