"""The database itself refuses to change, delete or truncate audit events (SQLite and PostgreSQL);
only the test harness's flush gets through, in maintenance mode."""

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.management.sql import emit_post_migrate_signal
from django.db import DatabaseError, connection, transaction

from qiyue.audit.chain import verify
from qiyue.audit.guards import (
    POSTGRES_TRIGGERS,
    SQLITE_TRIGGERS,
    TABLE,
    audit_maintenance,
    ensure_guards,
    installed_triggers,
)
from qiyue.audit.models import AuditEvent
from qiyue.audit.services import audit_record
from qiyue.audit.tests.tampering import guards_off

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def events(users):
    for n in range(12):
        audit_record(actor=users["admin"], action="customer.created", target=(AuditEvent, f"event {n}"))
    return list(AuditEvent.objects.order_by("seq"))


def refused(sql, params=()):
    """True when the database refuses `sql` with the guards' message (and nothing changed)."""
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "mac", "action"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "mac", "action")) == before
    return True


def test_the_guards_are_installed():
    assert installed_triggers(connection) == set(POSTGRES_TRIGGERS if POSTGRES else SQLITE_TRIGGERS)


@pytest.mark.parametrize("newest", [1, 5, None])
def test_deleting_the_newest_events_is_refused(events, newest):
    last = events[-1].seq
    keep = 0 if newest is None else last - newest
    assert refused(f"DELETE FROM {TABLE} WHERE seq > %s", [keep])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq__gt=keep).delete()
    assert AuditEvent.objects.count() == len(events)
    assert verify(AuditEvent.objects.all()).ok


def test_deleting_everything_is_refused(events):
    assert refused(f"DELETE FROM {TABLE}")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()


def test_updating_is_refused(events):
    assert refused(f"UPDATE {TABLE} SET actor_name = 'someone else' WHERE seq = %s", [events[3].seq])
    assert refused(f"UPDATE {TABLE} SET seq = seq + 1000")


@pytest.mark.skipif(not POSTGRES, reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize("sql", [f"TRUNCATE {TABLE}", f"TRUNCATE TABLE {TABLE} RESTART IDENTITY CASCADE",
                                 f"TRUNCATE django_session, {TABLE}"])
def test_truncate_is_refused(events, sql):
    assert refused(sql)


def test_a_flush_is_refused_outside_maintenance(events):
    """What `qiyue flush` would run (DELETE on SQLite, TRUNCATE on PostgreSQL): refused."""
    statements = connection.ops.sql_flush(no_style(), [TABLE])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.ops.execute_sql_flush(statements)
    assert AuditEvent.objects.count() == len(events)


def test_maintenance_lets_the_flush_through_for_its_duration_only(events):
    statements = connection.ops.sql_flush(no_style(), [TABLE])
    with transaction.atomic():
        with audit_maintenance():
            connection.ops.execute_sql_flush(statements)
        assert AuditEvent.objects.count() == 0
        transaction.set_rollback(True)
    assert AuditEvent.objects.count() == len(events)
    assert refused(f"DELETE FROM {TABLE}")  # maintenance ended with the block


def test_the_sqlite_flag_is_the_python_connections(events):
    """The triggers ask a function whose answer only audit_maintenance() changes; no SQL sets it."""
    if POSTGRES:
        pytest.skip("SQLite's flag")

    def flag():
        with connection.cursor() as cursor:
            cursor.execute("SELECT qiyue_audit_maintenance()")
            return cursor.fetchone()[0]

    assert flag() == 0
    with audit_maintenance():
        assert flag() == 1
    assert flag() == 0
    assert refused(f"DELETE FROM {TABLE}")


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL roles")
def test_the_postgres_setting_lets_only_the_table_owner_through(events):
    """A role that may DELETE on the table but does not own it gains nothing from the setting."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE ROLE qiyue_audit_probe NOLOGIN")
        cursor.execute(f"GRANT SELECT, DELETE ON {TABLE} TO qiyue_audit_probe")
        cursor.execute("SET LOCAL ROLE qiyue_audit_probe")
        cursor.execute("SELECT set_config('qiyue.audit_maintenance', 'on', true)")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(f"DELETE FROM {TABLE}")  # nosec B608  # TABLE is the model's table name
        transaction.set_rollback(True)  # the role goes with the transaction
    assert AuditEvent.objects.count() == len(events)


def test_appending_still_works(events, users):
    event = audit_record(actor=users["admin"], action="customer.created", target=(AuditEvent, "one more"))
    assert event.seq == events[-1].seq + 1
    assert verify(AuditEvent.objects.all()).ok


def test_missing_guards_come_back_after_migrate(events):
    """SQLite drops a table's triggers when a migration rebuilds the table; post_migrate puts them back."""
    with guards_off():
        if POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TRIGGER audit_no_truncate ON {TABLE}")
        assert installed_triggers(connection) == set()
        emit_post_migrate_signal(0, False, "default")
        assert installed_triggers(connection) == set(POSTGRES_TRIGGERS if POSTGRES else SQLITE_TRIGGERS)
    assert not ensure_guards()
    assert refused(f"DELETE FROM {TABLE}")


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_still_flush_the_log(users):
    """This test's own teardown flushes the table; the next test starts with an empty log."""
    audit_record(actor=users["admin"], action="customer.created", target=(AuditEvent, "flushed"))
    assert AuditEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert installed_triggers(connection)
