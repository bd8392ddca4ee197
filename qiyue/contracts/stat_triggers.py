"""Database triggers that keep ContractStat exact on every write to the contract table.

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


def drop_stat_triggers(using: str = "default") -> None:
    """Remove the triggers (migrations and bulk loads; install_stat_triggers puts them back and
    recounts)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        for sql in POSTGRES_DROP if connection.vendor == "postgresql" else SQLITE_DROP:
            cursor.execute(sql)
