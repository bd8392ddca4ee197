"""Indexes that only SQLite gets, (re)created after every `migrate` (see apps.py): they are not in the
models' Meta, so a migration that rebuilds the contract table on SQLite would drop them, as it drops
triggers.

`contract_customer_overdue` holds each live unpaid contract's `unpaid_schedule` beside its customer, so
the customer page sums what is overdue from the index alone: the biggest customer's 1,332 overdue
contracts were read from the table one row at a time (7 ms at a million contracts, warm; 2 ms from the
index, which also holds `deleted_at`: SQLite reads a column of the condition again even from a
partial index). PostgreSQL does not get it: a btree entry is limited to about 2,700 bytes, and the schedule of
a contract with a hundred installments is longer.
"""

from django.db import connections

SQLITE_INDEXES = {
    "contract_customer_overdue": (
        'CREATE INDEX IF NOT EXISTS contract_customer_overdue ON contracts_contract '
        '(customer_id, unpaid_since, currency, owner_id, team_id, unpaid_schedule, deleted_at) '
        'WHERE deleted_at IS NULL AND unpaid_since IS NOT NULL'),
}


def install_sqlite_indexes(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for sql in SQLITE_INDEXES.values():
            cursor.execute(sql)
