"""The full-text index beside search_searchentry: FTS5 on SQLite, a GIN index on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = (
    # Contentless: SearchEntry keeps the text; the stream is pre-tokenized, so FTS5's ascii
    # tokenizer only splits on spaces ("_" is a token character for the key tokens).
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "body, content='', tokenize=\"ascii tokenchars '_'\")"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_tsv_gin ON search_tsv USING gin (tsv) "
                              "WITH (fastupdate = off)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS search_fts")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_tsv_gin")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
