"""Database triggers that copy a contract's owner and team onto its installments (`Installment.owner_id`,
`team_id`), so the receivables list is scoped through an index: on every insert and update of an
installment, whatever makes it (a service, a bulk load, a full `save()` of a stale instance), and on every
change of the contract's owner or team.

Installed after every `migrate` (see apps.py): SQLite drops a table's triggers when a migration rebuilds it.
"""

from django.db import connections

_OWNER = "(SELECT c.owner_id FROM contracts_contract c WHERE c.id = NEW.contract_id)"
_TEAM = "(SELECT c.team_id FROM contracts_contract c WHERE c.id = NEW.contract_id)"
SQLITE = [
    "CREATE TRIGGER installment_scope_insert AFTER INSERT ON finance_installment "
    f"WHEN NEW.owner_id IS NOT {_OWNER} OR NEW.team_id IS NOT {_TEAM} BEGIN "
    f"UPDATE finance_installment SET owner_id = {_OWNER}, team_id = {_TEAM} WHERE id = NEW.id; END;",
    "CREATE TRIGGER installment_scope_update AFTER UPDATE ON finance_installment "
    f"WHEN NEW.owner_id IS NOT {_OWNER} OR NEW.team_id IS NOT {_TEAM} BEGIN "
    f"UPDATE finance_installment SET owner_id = {_OWNER}, team_id = {_TEAM} WHERE id = NEW.id; END;",
    "CREATE TRIGGER installment_scope_follow AFTER UPDATE OF owner_id, team_id ON contracts_contract "
    "WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.team_id IS NOT NEW.team_id BEGIN "
    "UPDATE finance_installment SET owner_id = NEW.owner_id, team_id = NEW.team_id WHERE contract_id = NEW.id; END;",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS installment_scope_insert", "DROP TRIGGER IF EXISTS installment_scope_update",
               "DROP TRIGGER IF EXISTS installment_scope_follow"]
POSTGRES = ["""
CREATE OR REPLACE FUNCTION qiyue_installment_scope() RETURNS trigger AS $$
BEGIN
    SELECT c.owner_id, c.team_id INTO NEW.owner_id, NEW.team_id FROM contracts_contract c WHERE c.id = NEW.contract_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;""", """
CREATE TRIGGER installment_scope BEFORE INSERT OR UPDATE ON finance_installment
    FOR EACH ROW EXECUTE FUNCTION qiyue_installment_scope();""", """
CREATE OR REPLACE FUNCTION qiyue_installment_scope_follow() RETURNS trigger AS $$
BEGIN
    UPDATE finance_installment SET owner_id = NEW.owner_id, team_id = NEW.team_id WHERE contract_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;""", """
CREATE TRIGGER installment_scope_follow AFTER UPDATE OF owner_id, team_id ON contracts_contract FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.team_id IS DISTINCT FROM NEW.team_id)
    EXECUTE FUNCTION qiyue_installment_scope_follow();"""]
POSTGRES_DROP = ["DROP TRIGGER IF EXISTS installment_scope ON finance_installment",
                 "DROP TRIGGER IF EXISTS installment_scope_follow ON contracts_contract",
                 "DROP FUNCTION IF EXISTS qiyue_installment_scope()",
                 "DROP FUNCTION IF EXISTS qiyue_installment_scope_follow()"]


def install_scope_triggers(using: str = "default") -> None:
    """Create the triggers (replacing any)."""
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for sql in (POSTGRES_DROP + POSTGRES) if postgres else (SQLITE_DROP + SQLITE):
            cursor.execute(sql)
