"""The database refuses to change or remove audit events: UPDATE and DELETE on SQLite and PostgreSQL,
TRUNCATE on PostgreSQL (SQLite has none; its DELETE without WHERE fires the triggers).

These guards stop accidents (a stray `DELETE`, `qiyue flush`, a buggy migration) and casual
tampering by someone with the application's database login. They do not stop a database superuser
or the owner of the SQLite file, who can drop or disable triggers: the signed checkpoints written
outside the database (qiyue.audit.checkpoints, `qiyue audit verify --checkpoint`) are what detects them.

The one way through is `audit_maintenance()`, which the test harness wraps around the flush that
empties every table between transactional tests. On PostgreSQL it sets the session setting
`qiyue.audit_maintenance` to `on`, honoured only for a role that owns the table (who could disable
the triggers anyway); on SQLite it sets a flag on the Python connection that the SQL function
`qiyue_audit_maintenance()` reports, so no SQL statement can turn it on.

The SQL lives here (the migration 0003_truncation_guards installs it), because SQLite loses a
table's triggers whenever Django rebuilds the table (a migration that adds a NOT NULL column does):
`ensure_guards()` runs after every `migrate` and puts back what is missing.
"""

from contextlib import contextmanager

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

TABLE = "audit_auditevent"
MIGRATION = ("audit", "0003_truncation_guards")
MAINTENANCE_SETTING = "qiyue.audit_maintenance"
SQLITE_FUNCTION = "qiyue_audit_maintenance"
_FLAG = "_qiyue_audit_maintenance"

SQLITE_TRIGGERS = {
    f"audit_append_only_{op.lower()}": f"""
        CREATE TRIGGER IF NOT EXISTS audit_append_only_{op.lower()} BEFORE {op} ON {TABLE}
        WHEN NOT {SQLITE_FUNCTION}()
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {op} is not allowed'); END"""
    for op in ("UPDATE", "DELETE")
}

POSTGRES_TRIGGERS = ("audit_append_only", "audit_no_truncate")
POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION qiyue_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('{MAINTENANCE_SETTING}', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{TABLE} is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION qiyue_audit_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION qiyue_audit_append_only();
"""
# What 0002_append_only_trigger installed: rows only, no way through.
POSTGRES_UNINSTALL = f"""
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
CREATE OR REPLACE FUNCTION qiyue_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{TABLE} is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def install(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
        elif connection.vendor == "sqlite":
            for sql in SQLITE_TRIGGERS.values():
                cursor.execute(sql)


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_UNINSTALL)
        elif connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed_triggers(connection) -> set[str]:
    """The names of the guard triggers present on the audit table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
                           "AND tgenabled <> 'D'", [TABLE])
            names = set(POSTGRES_TRIGGERS)
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
            names = set(SQLITE_TRIGGERS)
        else:
            return set()
        return {row[0] for row in cursor.fetchall()} & names


def ensure_guards(using: str = "default") -> bool:
    """Put back guard triggers that are missing (once the guards' migration is applied); True when
    some were. Runs after every `migrate` (post_migrate)."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    if MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return False
    expected = set(POSTGRES_TRIGGERS if connection.vendor == "postgresql" else SQLITE_TRIGGERS)
    if installed_triggers(connection) == expected:
        return False
    install(connection)
    return True


def _post_migrate(sender, using="default", **kwargs):
    if sender.label == "audit":
        ensure_guards(using)


def _connection_created(sender, connection, **kwargs):
    """Give every SQLite connection the function the triggers ask whether maintenance is on."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 0, lambda: int(getattr(connection, _FLAG, False)))


@contextmanager
def audit_maintenance(using: str = "default"):
    """Let this connection change and empty the audit table for the duration: for the test harness's
    flush between transactional tests, nothing else. On PostgreSQL only a role owning the table gets
    through."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', false)", [MAINTENANCE_SETTING])
        try:
            yield
        finally:
            if connection.connection is not None and not connection.needs_rollback:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', false)", [MAINTENANCE_SETTING])
    else:
        previous = getattr(connection, _FLAG, False)
        setattr(connection, _FLAG, True)
        try:
            yield
        finally:
            setattr(connection, _FLAG, previous)
