"""PostgreSQL: `search_tsv` is partitioned by ranges of entry ids, each with its own GIN index.

A GIN index answers a word with a bitmap of every row that holds it before LIMIT applies, so on one
big table a frequent word costs what all its postings cost (170,000 rows for 合同 at 200,000
contracts), however few hits the page shows. Entry ids only grow and the newest entries are what a
search shows first, so the ranges let a search read the newest range's index first and stop there
when it has enough (selectors._Query.count_ranges and page_ranges); a rare word still reads every range's short lists.

Ranges are PARTITION_IDS ids wide and named `<table>_p<n>` (ids n × PARTITION_IDS up to the next).
Writers create them as ids reach them, keeping one empty range ahead so that a writer rarely needs
to: a range is created as a table of its own, then attached, which locks the parent only against
other schema changes (searches and writes go on). An installation whose `search_tsv` is still one
table (before migration 0007) is searched and written as before until `qiyue reindex` (queued by
that migration) builds the partitioned table beside it.
"""

from django.db import connection

PARTITION_IDS = 50_000
TABLE = "search_tsv"
# The transaction lock that makes writers create a range one at a time.
CREATE_LOCK = 0x51_59_55_46


def partition_name(table: str, n: int) -> str:
    return f"{table}_p{n}"


def is_partitioned(cursor, table: str = TABLE) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def create_partitioned(cursor, table: str, like: str = TABLE) -> None:
    """An empty partitioned table shaped like `like` (its columns and defaults, no indexes)."""
    # Not injectable (bandit B608): the table names are the search modules' constants.
    cursor.execute(f"CREATE TABLE {table} (LIKE {like} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "  # nosec B608
                   f"INCLUDING STORAGE) PARTITION BY RANGE (entry_id)")


def ensure(cursor, low_id: int, high_id: int, table: str = TABLE) -> None:
    """The ranges of `table` for the ids low_id … high_id exist, and one more above (called in the
    writing transaction, before the rows are inserted). Nothing for a table that is not partitioned."""
    last = high_id // PARTITION_IDS + 1
    cursor.execute("SELECT to_regclass(%s)", [partition_name(table, last)])
    if cursor.fetchone()[0] is not None:  # ranges are created in order, up to one ahead
        return
    if not is_partitioned(cursor, table):
        return
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CREATE_LOCK])
    existing = set(partitions(cursor, table))
    for n in range(low_id // PARTITION_IDS, last + 1):
        name = partition_name(table, n)
        if name in existing:
            continue
        # A table of its own, then attached: CREATE TABLE … PARTITION OF would lock the parent
        # against every reader until this transaction ends; ATTACH only against schema changes.
        # Not injectable (bandit B608): the names are the search modules' constants and a number.
        cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "  # nosec B608
                       f"INCLUDING STORAGE)")
        # Not injectable (bandit B608): the same names and numbers.
        cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM "  # nosec B608
                       f"({n * PARTITION_IDS}) TO ({(n + 1) * PARTITION_IDS})")


def partitions(cursor, table: str = TABLE) -> list[str]:
    """The names of `table`'s ranges."""
    cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                   "WHERE i.inhparent = to_regclass(%s) ORDER BY 1", [table])
    return [row[0] for row in cursor.fetchall()]


def live_shape() -> tuple[bool, int, int]:
    """(partitioned, lowest entry id, highest entry id) of the live `search_tsv`, for a search's id
    ranges (selectors._Query.count_ranges)."""
    with connection.cursor() as cursor:
        # The entries' ids are the vectors' (written and deleted together); one B-tree answers both
        # ends, where search_tsv would merge every partition's key.
        cursor.execute("SELECT (SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)), "
                       "(SELECT min(id) FROM search_searchentry), (SELECT max(id) FROM search_searchentry)", [TABLE])
        relkind, low, high = cursor.fetchone()
    return relkind == "p", low or 0, high or 0
