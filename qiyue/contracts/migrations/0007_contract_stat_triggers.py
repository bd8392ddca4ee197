"""Database triggers that keep ContractStat exact on every write to the contract table."""

from django.db import migrations

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


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    schema_editor.execute("DELETE FROM contracts_contractstat", params=None)
    schema_editor.execute(BACKFILL, params=None)
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    for sql in POSTGRES_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0006_contract_stats")]
    operations = [migrations.RunPython(forwards, backwards)]
