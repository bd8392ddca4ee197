"""Database triggers that keep ContractStat, ContractMonthStat, ReceivableStat and ReceivableTotal exact on
every write to the contract table.

They are (re)installed after every `migrate` (see apps.py): SQLite drops a table's triggers when a
migration rebuilds the table, so a migration alone could not keep them in place.
"""

from django.db import connections

UPSERT = """
INSERT INTO contracts_contractstat (team_id, owner_id, status, currency, count, amount)
{source}
ON CONFLICT (team_id, owner_id, status, currency) DO UPDATE
SET count = contracts_contractstat.count + excluded.count, amount = contracts_contractstat.amount + excluded.amount;
"""


def _row(prefix: str, sign: str, condition: str) -> str:
    return UPSERT.format(source=(
        f"SELECT COALESCE({prefix}.team_id, 0), {prefix}.owner_id, {prefix}.status, {prefix}.currency, "
        f"{sign}1, {sign}{prefix}.amount WHERE {condition}"))


SQLITE = [
    "CREATE TRIGGER contract_stat_insert AFTER INSERT ON contracts_contract BEGIN"
    + _row("NEW", "", "NEW.deleted_at IS NULL") + "END;",
    "CREATE TRIGGER contract_stat_update AFTER UPDATE OF team_id, owner_id, status, currency, amount, deleted_at "
    "ON contracts_contract BEGIN" + _row("OLD", "-", "OLD.deleted_at IS NULL")
    + _row("NEW", "", "NEW.deleted_at IS NULL") + "END;",
    "CREATE TRIGGER contract_stat_delete AFTER DELETE ON contracts_contract BEGIN"
    + _row("OLD", "-", "OLD.deleted_at IS NULL") + "END;",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS contract_stat_insert", "DROP TRIGGER IF EXISTS contract_stat_update",
               "DROP TRIGGER IF EXISTS contract_stat_delete"]

POSTGRES = ["""
CREATE OR REPLACE FUNCTION qiyue_contract_stat() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN""" + _row("OLD", "-", "OLD.deleted_at IS NULL") + """
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN""" + _row("NEW", "", "NEW.deleted_at IS NULL") + """
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;""", """
CREATE TRIGGER contract_stat AFTER INSERT OR DELETE OR UPDATE OF team_id, owner_id, status, currency, amount,
    deleted_at ON contracts_contract FOR EACH ROW EXECUTE FUNCTION qiyue_contract_stat();"""]
POSTGRES_DROP = ["DROP TRIGGER IF EXISTS contract_stat ON contracts_contract",
                 "DROP FUNCTION IF EXISTS qiyue_contract_stat()"]

BACKFILL = """
INSERT INTO contracts_contractstat (team_id, owner_id, status, currency, count, amount)
SELECT COALESCE(team_id, 0), owner_id, status, currency, COUNT(*), SUM(amount)
FROM contracts_contract WHERE deleted_at IS NULL GROUP BY COALESCE(team_id, 0), owner_id, status, currency
"""




# ContractMonthStat: per signing month of every signed contract, and per expiry month of the signed
# and active ones (what can still expire). The statuses are spelled out: the SQL is the source.
MONTH_TABLE = "contracts_contractmonthstat"
MONTH_UPSERT = """
INSERT INTO contracts_contractmonthstat (team_id, owner_id, measure, month, currency, count, amount)
{source}
ON CONFLICT (team_id, owner_id, measure, month, currency) DO UPDATE
SET count = contracts_contractmonthstat.count + excluded.count,
    amount = contracts_contractmonthstat.amount + excluded.amount;
"""
MONTH_MEASURES = {  # measure: (date column, the rows it counts)
    "signed": ("signing_date", "{p}.signing_date IS NOT NULL"),
    "expiring": ("expiry_date", "{p}.expiry_date IS NOT NULL AND {p}.status IN ('signed', 'active')"),
}


def _month(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"(EXTRACT(YEAR FROM {column}) * 100 + EXTRACT(MONTH FROM {column}))::integer"
    return f"CAST(strftime('%Y%m', {column}) AS INTEGER)"


def _month_rows(vendor: str, prefix: str, sign: str) -> str:
    sql = ""
    for measure, (column, condition) in MONTH_MEASURES.items():
        sql += MONTH_UPSERT.format(source=(
            f"SELECT COALESCE({prefix}.team_id, 0), {prefix}.owner_id, '{measure}', "
            f"{_month(vendor, f'{prefix}.{column}')}, {prefix}.currency, {sign}1, {sign}{prefix}.amount "
            f"WHERE {prefix}.deleted_at IS NULL AND {condition.format(p=prefix)}"))
    return sql


MONTH_COLUMNS = "team_id, owner_id, status, currency, amount, deleted_at, signing_date, expiry_date"
SQLITE_MONTH = [
    "CREATE TRIGGER contract_month_stat_insert AFTER INSERT ON contracts_contract BEGIN"
    + _month_rows("sqlite", "NEW", "") + "END;",
    f"CREATE TRIGGER contract_month_stat_update AFTER UPDATE OF {MONTH_COLUMNS} ON contracts_contract BEGIN"
    + _month_rows("sqlite", "OLD", "-") + _month_rows("sqlite", "NEW", "") + "END;",
    "CREATE TRIGGER contract_month_stat_delete AFTER DELETE ON contracts_contract BEGIN"
    + _month_rows("sqlite", "OLD", "-") + "END;",
]
SQLITE_MONTH_DROP = ["DROP TRIGGER IF EXISTS contract_month_stat_insert",
                     "DROP TRIGGER IF EXISTS contract_month_stat_update",
                     "DROP TRIGGER IF EXISTS contract_month_stat_delete"]
POSTGRES_MONTH = ["""
CREATE OR REPLACE FUNCTION qiyue_contract_month_stat() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN""" + _month_rows("postgresql", "OLD", "-") + """
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN""" + _month_rows("postgresql", "NEW", "") + """
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;""", f"""
CREATE TRIGGER contract_month_stat AFTER INSERT OR DELETE OR UPDATE OF {MONTH_COLUMNS}
    ON contracts_contract FOR EACH ROW EXECUTE FUNCTION qiyue_contract_month_stat();"""]
POSTGRES_MONTH_DROP = ["DROP TRIGGER IF EXISTS contract_month_stat ON contracts_contract",
                       "DROP FUNCTION IF EXISTS qiyue_contract_month_stat()"]


def _month_backfill(vendor: str) -> list[str]:
    sql = []
    for measure, (column, condition) in MONTH_MEASURES.items():
        month = _month(vendor, column)
        sql.append(
            "INSERT INTO contracts_contractmonthstat (team_id, owner_id, measure, month, currency, count, amount) "
            f"SELECT COALESCE(team_id, 0), owner_id, '{measure}', {month}, currency, COUNT(*), SUM(amount) "
            f"FROM contracts_contract c WHERE deleted_at IS NULL AND {condition.format(p='c')} "
            f"GROUP BY COALESCE(team_id, 0), owner_id, {month}, currency")
    return sql


# ReceivableStat: what live contracts still owe, per due date, from each contract's `unpaid_schedule`
# ([[due date, still owed], ...]) and, under UNDATED, the part of `outstanding_amount` the schedule leaves
# out (installments without a due date). Each statement groups by due date first: PostgreSQL refuses an
# upsert that meets the same key twice.
RECEIVABLE_TABLE = "contracts_receivablestat"
RECEIVABLE_UPSERT = """
INSERT INTO contracts_receivablestat (team_id, owner_id, currency, due_date, count, amount)
{source}
ON CONFLICT (team_id, owner_id, currency, due_date) DO UPDATE
SET count = contracts_receivablestat.count + excluded.count,
    amount = contracts_receivablestat.amount + excluded.amount;
"""
UNDATED_SQL = "'9999-12-31'"  # qiyue.contracts.models.UNDATED
# ReceivableTotal: the same without team and owner, for those who see everything (a few thousand rows).
TOTAL_UPSERT = """
INSERT INTO contracts_receivabletotal (currency, due_date, count, amount)
{source}
ON CONFLICT (currency, due_date) DO UPDATE
SET count = contracts_receivabletotal.count + excluded.count,
    amount = contracts_receivabletotal.amount + excluded.amount;
"""


def _schedule(vendor: str, column: str) -> tuple[str, str, str, str]:
    """(FROM item, its due date, its amount, a condition) of the elements of a schedule column."""
    if vendor == "postgresql":
        return (f"jsonb_array_elements(CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} "
                "ELSE '[]'::jsonb END) AS e", "(e.value->>0)::date", "(e.value->>1)::numeric",
                "jsonb_typeof(e.value) = 'array'")
    return (f"json_each({column}) AS e", "json_extract(e.value, '$[0]')",
            "CAST(json_extract(e.value, '$[1]') AS REAL)", "e.type = 'array'")


def _undated(vendor: str, prefix: str) -> str:
    """The part of the row's outstanding amount its schedule does not date."""
    source, _due, amount, condition = _schedule(vendor, f"{prefix}.unpaid_schedule")
    return f"({prefix}.outstanding_amount - COALESCE((SELECT SUM({amount}) FROM {source} WHERE {condition}), 0))"


def _receivable_rows(vendor: str, prefix: str, sign: str) -> str:
    source, due, amount, condition = _schedule(vendor, f"{prefix}.unpaid_schedule")
    rest = _undated(vendor, prefix)
    undated_date = "DATE '9999-12-31'" if vendor == "postgresql" else UNDATED_SQL
    sql = ""
    for upsert, key in ((RECEIVABLE_UPSERT, f"COALESCE({prefix}.team_id, 0), {prefix}.owner_id, {prefix}.currency"),
                        (TOTAL_UPSERT, f"{prefix}.currency")):
        sql += upsert.format(source=(
            f"SELECT {key}, {due}, {sign}COUNT(*), {sign}SUM({amount}) FROM {source} "
            f"WHERE {prefix}.deleted_at IS NULL AND {condition} GROUP BY {due}"))
        sql += upsert.format(source=(
            f"SELECT {key}, {undated_date}, {sign}1, {sign}ROUND({rest}, 2) "
            f"WHERE {prefix}.deleted_at IS NULL AND {prefix}.outstanding_amount > 0 AND ABS({rest}) >= 0.005"))
    return sql


RECEIVABLE_COLUMNS = ("team_id", "owner_id", "currency", "deleted_at", "unpaid_schedule", "outstanding_amount")
_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in RECEIVABLE_COLUMNS)
_PG_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in RECEIVABLE_COLUMNS)
SQLITE_RECEIVABLE = [
    "CREATE TRIGGER receivable_stat_insert AFTER INSERT ON contracts_contract BEGIN"
    + _receivable_rows("sqlite", "NEW", "") + "END;",
    f"CREATE TRIGGER receivable_stat_update AFTER UPDATE OF {', '.join(RECEIVABLE_COLUMNS)} "
    f"ON contracts_contract WHEN {_CHANGED} BEGIN"
    + _receivable_rows("sqlite", "OLD", "-") + _receivable_rows("sqlite", "NEW", "") + "END;",
    "CREATE TRIGGER receivable_stat_delete AFTER DELETE ON contracts_contract BEGIN"
    + _receivable_rows("sqlite", "OLD", "-") + "END;",
]
SQLITE_RECEIVABLE_DROP = ["DROP TRIGGER IF EXISTS receivable_stat_insert",
                          "DROP TRIGGER IF EXISTS receivable_stat_update",
                          "DROP TRIGGER IF EXISTS receivable_stat_delete"]
POSTGRES_RECEIVABLE = ["""
CREATE OR REPLACE FUNCTION qiyue_receivable_stat() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN""" + _receivable_rows("postgresql", "OLD", "-") + """
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN""" + _receivable_rows("postgresql", "NEW", "") + """
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;""", """
CREATE TRIGGER receivable_stat AFTER INSERT OR DELETE ON contracts_contract
    FOR EACH ROW EXECUTE FUNCTION qiyue_receivable_stat();""", f"""
CREATE TRIGGER receivable_stat_update AFTER UPDATE OF {', '.join(RECEIVABLE_COLUMNS)} ON contracts_contract
    FOR EACH ROW WHEN ({_PG_CHANGED}) EXECUTE FUNCTION qiyue_receivable_stat();"""]
POSTGRES_RECEIVABLE_DROP = ["DROP TRIGGER IF EXISTS receivable_stat ON contracts_contract",
                            "DROP TRIGGER IF EXISTS receivable_stat_update ON contracts_contract",
                            "DROP FUNCTION IF EXISTS qiyue_receivable_stat()"]


def _receivable_backfill(vendor: str) -> list[str]:
    source, due, amount, condition = _schedule(vendor, "c.unpaid_schedule")
    key = "COALESCE(c.team_id, 0), c.owner_id, c.currency"
    rest = _undated(vendor, "c")
    undated_date = "DATE '9999-12-31'" if vendor == "postgresql" else UNDATED_SQL
    return [
        f"INSERT INTO {RECEIVABLE_TABLE} (team_id, owner_id, currency, due_date, count, amount) "
        f"SELECT {key}, {due}, COUNT(*), SUM({amount}) FROM contracts_contract c CROSS JOIN {source} "
        f"WHERE c.deleted_at IS NULL AND c.outstanding_amount > 0 AND {condition} "
        f"GROUP BY COALESCE(c.team_id, 0), c.owner_id, c.currency, {due}",
        RECEIVABLE_UPSERT.format(source=(
            f"SELECT team, owner, currency, {undated_date}, COUNT(*), ROUND(SUM(rest), 2) FROM ("
            f"SELECT COALESCE(c.team_id, 0) AS team, c.owner_id AS owner, c.currency AS currency, {rest} AS rest "
            "FROM contracts_contract c WHERE c.deleted_at IS NULL AND c.outstanding_amount > 0) AS r "
            "WHERE ABS(rest) >= 0.005 GROUP BY team, owner, currency")),
        "INSERT INTO contracts_receivabletotal (currency, due_date, count, amount) "
        "SELECT currency, due_date, SUM(count), SUM(amount) FROM contracts_receivablestat GROUP BY currency, due_date",
    ]


def _has_month_table(connection) -> bool:
    # Migration 0007 installs the triggers before 0012 creates the month table; post_migrate
    # installs everything once the migrations are done.
    return MONTH_TABLE in connection.introspection.table_names()


def install_stat_triggers(using: str = "default") -> None:
    """Create the triggers (replacing any) and rebuild ContractStat from the contract rows."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            drops, creates = POSTGRES_DROP, POSTGRES
        else:
            drops, creates = SQLITE_DROP, SQLITE
        for sql in drops:
            cursor.execute(sql)
        cursor.execute("DELETE FROM contracts_contractstat")
        cursor.execute(BACKFILL)
        for sql in creates:
            cursor.execute(sql)
        if _has_month_table(connection):
            postgres = connection.vendor == "postgresql"
            for sql in POSTGRES_MONTH_DROP if postgres else SQLITE_MONTH_DROP:
                cursor.execute(sql)
            cursor.execute("DELETE FROM contracts_contractmonthstat")
            for sql in _month_backfill(connection.vendor):
                cursor.execute(sql)
            for sql in POSTGRES_MONTH if postgres else SQLITE_MONTH:
                cursor.execute(sql)
        if RECEIVABLE_TABLE in connection.introspection.table_names(cursor):
            postgres = connection.vendor == "postgresql"
            for sql in POSTGRES_RECEIVABLE_DROP if postgres else SQLITE_RECEIVABLE_DROP:
                cursor.execute(sql)
            cursor.execute("DELETE FROM contracts_receivablestat")
            cursor.execute("DELETE FROM contracts_receivabletotal")
            for sql in _receivable_backfill(connection.vendor):
                cursor.execute(sql)
            for sql in POSTGRES_RECEIVABLE if postgres else SQLITE_RECEIVABLE:
                cursor.execute(sql)


def drop_stat_triggers(using: str = "default") -> None:
    """Remove the triggers (migrations and bulk loads; install_stat_triggers puts them back and
    recounts)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        for sql in ((POSTGRES_DROP + POSTGRES_MONTH_DROP + POSTGRES_RECEIVABLE_DROP) if postgres
                    else (SQLITE_DROP + SQLITE_MONTH_DROP + SQLITE_RECEIVABLE_DROP)):
            cursor.execute(sql)
