"""The audit log is append-only and tamper-evident; tests tamper through raw SQL."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent
from qiyue.audit.services import access_record, audit_record
from qiyue.audit.tests.tampering import tamper
from qiyue.contracts.tests.factories import make_contract
from qiyue.core import context
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def log(users):
    """A realistic short log: customers, contracts, a transition, a view."""
    from qiyue.contracts.services import contract_transition

    contract = make_contract(users["sales"])
    contract_transition(actor=users["sales"], contract=contract, name="submit")
    access_record(actor=users["legal"], target=contract, action="contract.viewed")
    make_contract(users["sales_b"])
    return list(AuditEvent.objects.order_by("seq"))


def raw(sql, params=()):
    tamper(sql, params)  # the guards off, as a database superuser could


def verify_command():
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def test_intact_log_verifies(log):
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert verify(AuditEvent.objects.all()).ok
    assert verify_command().startswith(f"OK: {len(log)} events verified")


def test_edited_row_is_found(log):
    victim = log[5]
    raw(f"UPDATE {TABLE} SET actor_name = %s WHERE id = %s", ["someone else", victim.pk])
    result = verify(AuditEvent.objects.all())
    assert (result.ok, result.first_bad_id, result.reason) == (False, victim.pk, "changed")
    with pytest.raises(CommandError, match=f"event id {victim.pk} "):
        verify_command()


def test_edited_changes_json_is_found(log):
    victim = next(e for e in log if e.action == "contract.submit")
    raw(f"UPDATE {TABLE} SET changes = %s WHERE id = %s", ['{"status": ["draft", "approved"]}', victim.pk])
    assert verify(AuditEvent.objects.all()).first_bad_id == victim.pk


def test_deleted_row_is_found(log):
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [log[3].pk])
    result = verify(AuditEvent.objects.all())
    assert (result.ok, result.first_bad_id, result.reason) == (False, log[4].pk, "removed")


def test_swapped_rows_are_found(log):
    a, b = log[2], log[3]
    # Swap the sequence numbers of two events (reordering history).
    raw(f"UPDATE {TABLE} SET seq = -1 WHERE id = %s", [a.pk])
    raw(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [a.seq, b.pk])
    raw(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [b.seq, a.pk])
    result = verify(AuditEvent.objects.all())
    assert not result.ok and result.first_bad_id == b.pk


def test_forged_mac_without_the_key_is_found(log, settings):
    from qiyue.audit.chain import compute_mac

    victim = log[-1]
    victim.actor_name = "forger"
    settings.QIYUE_AUDIT_KEY = "a-guessed-key"
    forged = compute_mac(log[-2].mac, victim)
    raw(f"UPDATE {TABLE} SET actor_name = %s, mac = %s WHERE id = %s", ["forger", forged, victim.pk])
    settings.QIYUE_AUDIT_KEY = "test"  # anything but the guess
    assert not verify(AuditEvent.objects.all()).ok


def test_events_record_request_context(users):
    token = context.current.set(context.RequestContext(request_id="req-123", ip="10.1.2.3"))
    try:
        event = audit_record(actor=users["sales"], action="customer.created", target=users["sales"])
    finally:
        context.current.reset(token)
    event.refresh_from_db()
    assert (event.request_id, event.ip) == ("req-123", "10.1.2.3")


def test_event_rolls_back_with_its_change(users):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_customer(users["sales"])
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before
    assert verify(AuditEvent.objects.all()).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgres_trigger_blocks_update_and_delete(log):
    for sql in (f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", f"DELETE FROM {TABLE} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [log[0].pk])
    assert AuditEvent.objects.get(pk=log[0].pk).action == log[0].action
