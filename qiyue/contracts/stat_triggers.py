"""Database triggers that keep ContractStat and ContractMonthStat exact on every write to the
contract table.

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


def drop_stat_triggers(using: str = "default") -> None:
    """Remove the triggers (migrations and bulk loads; install_stat_triggers puts them back and
    recounts)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        for sql in (POSTGRES_DROP + POSTGRES_MONTH_DROP) if postgres else (SQLITE_DROP + SQLITE_MONTH_DROP):
            cursor.execute(sql)
