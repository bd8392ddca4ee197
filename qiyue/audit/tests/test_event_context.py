"""What each event carries besides its change: the server's request id, the client's correlation id,
user agent and outcome, under a chain whose canonical form is versioned."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qiyue.audit import chain, services
from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent
from qiyue.audit.services import audit_record
from qiyue.contracts.tests.factories import make_contract
from qiyue.core import context
from qiyue.core.middleware import correlation_id

from .tampering import tamper

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def raw(sql, params=()):
    tamper(sql, params)  # the guards off, as a database superuser could


def in_request(**facts):
    return context.current.set(context.RequestContext(**{"request_id": "r" * 32, "ip": "10.0.0.9", **facts}))


@pytest.fixture
def mixed_log(users, monkeypatch):
    """Events written before the upgrade (chain version 1: no user agent, outcome or correlation id),
    then events written after it, in one chain."""
    monkeypatch.setattr(services, "CURRENT_VERSION", 1)
    token = in_request()
    try:
        make_contract(users["sales"])
        # As rows from before the migration: the new columns empty.
        raw(f"UPDATE {TABLE} SET user_agent = '', outcome = '', correlation_id = '' WHERE chain_version = 1")
    finally:
        context.current.reset(token)
    monkeypatch.setattr(services, "CURRENT_VERSION", chain.CURRENT_VERSION)
    token = in_request(user_agent="Mozilla/5.0 (X11; Linux) Firefox/140.0", correlation_id="client-7")
    try:
        contract = make_contract(users["sales_b"])
        with transaction.atomic():
            audit_record(actor=users["legal"], action="contract.viewed", target=contract,
                         kind=AuditEvent.Kind.ACCESS)
    finally:
        context.current.reset(token)
    events = list(AuditEvent.objects.order_by("seq"))
    assert {e.chain_version for e in events} == {1, 2}
    return events


def test_old_and_new_events_verify_together(mixed_log):
    assert verify(AuditEvent.objects.all()).ok
    new = mixed_log[-1]
    assert (new.chain_version, new.user_agent, new.outcome, new.correlation_id) == (
        2, "Mozilla/5.0 (X11; Linux) Firefox/140.0", "success", "client-7")


@pytest.mark.parametrize("column,value", [
    ("user_agent", "curl/8.0"), ("outcome", "denied"), ("correlation_id", "someone-else"), ("chain_version", 3),
])
def test_a_changed_new_field_is_found(mixed_log, column, value):
    victim = mixed_log[-1]
    raw(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, victim.pk])
    result = verify(AuditEvent.objects.all())
    assert (result.ok, result.first_bad_id, result.reason) == (False, victim.pk, "changed")


def test_downgrading_an_event_to_version_1_does_not_hide_a_change(mixed_log):
    """Version 1 does not cover the user agent; a row rewritten to version 1 (with a forged agent) no
    longer matches its MAC, which covered the version and the agent."""
    victim = mixed_log[-1]
    raw(f"UPDATE {TABLE} SET chain_version = 1, user_agent = 'forged' WHERE id = %s", [victim.pk])
    result = verify(AuditEvent.objects.all())
    assert (result.ok, result.first_bad_id) == (False, victim.pk)
    raw(f"UPDATE {TABLE} SET chain_version = 1, user_agent = %s WHERE id = %s", [victim.user_agent, victim.pk])
    assert not verify(AuditEvent.objects.all()).ok  # the version alone is covered too


def test_version_2_covers_version_1_fields_and_its_own():
    assert chain.CHAINED_FIELDS_BY_VERSION[2][:15] == chain.CHAINED_FIELDS_BY_VERSION[1]
    assert {"chain_version", "user_agent", "outcome", "correlation_id"} <= set(chain.CHAINED_FIELDS)


def test_recording_adds_no_query(users):
    """audit_record runs on every write: the request's facts come from the context, not the database."""
    contract = make_contract(users["sales"])
    token = in_request(user_agent="UA", correlation_id="c")
    try:
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            audit_record(actor=users["sales"], action="contract.viewed", target=contract, kind=AuditEvent.Kind.ACCESS)
    finally:
        context.current.reset(token)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # PostgreSQL: the advisory lock, the chain's last MAC, the insert. SQLite: no lock.
    assert len(statements) == (3 if connection.vendor == "postgresql" else 2), statements


def test_user_agent_is_printable_and_bounded(users):
    contract = make_contract(users["sales"])
    token = in_request(user_agent="Evil\r\nFAKE line\x1b[31m" + "x" * 600)
    try:
        with transaction.atomic():
            event = audit_record(actor=users["sales"], action="contract.viewed", target=contract)
    finally:
        context.current.reset(token)
    assert event.user_agent.startswith("Evil\\r\\nFAKE line\\x1b[31m")
    assert len(event.user_agent) == 300 and "\n" not in event.user_agent


def test_the_request_id_is_the_servers_and_the_clients_is_kept_apart(client, users):
    client.force_login(users["legal"])
    contract = make_contract(users["sales"])
    response = client.get(reverse("contracts:detail", args=[contract.pk]), HTTP_X_REQUEST_ID="client-abc.1",
                          HTTP_USER_AGENT="QiyueTest/1.0")
    assert response.status_code == 200
    server_id = response["X-Request-ID"]
    assert HEX32.match(server_id) and server_id != "client-abc.1"
    event = AuditEvent.objects.get(action="contract.viewed")
    assert (event.request_id, event.correlation_id, event.user_agent) == (server_id, "client-abc.1", "QiyueTest/1.0")
    # Another request with the same client id gets an id of its own.
    again = client.get(reverse("contracts:detail", args=[contract.pk]), HTTP_X_REQUEST_ID="client-abc.1")
    assert again["X-Request-ID"] != server_id


def test_a_request_without_client_id_has_none(client, users):
    client.force_login(users["legal"])
    contract = make_contract(users["sales"])
    response = client.get(reverse("contracts:detail", args=[contract.pk]))
    event = AuditEvent.objects.get(action="contract.viewed")
    assert event.request_id == response["X-Request-ID"] and event.correlation_id == ""


@pytest.mark.parametrize("incoming,kept", [
    ("abc-123", "abc-123"),
    ("a b\r\nc<script>", "abcscript"),
    ("x" * 500, "x" * 64),
    ("全角", ""),
    ("urn:uuid:6f1c", "urn:uuid:6f1c"),
])
def test_correlation_id_is_sanitised_and_bounded(incoming, kept):
    assert correlation_id(incoming) == kept


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_existing_events_verifiable():
    """Rows written before the migration get version 1 and blank new fields, and keep verifying next
    to the version 2 events written after it (on PostgreSQL the append-only trigger does not stop the
    migration: it rewrites no row)."""
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("audit", "0003_truncation_guards"), ("audit", "0004_event_context")
    assert not AuditEvent.objects.exists()
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old_model = executor.loader.project_state([before]).apps.get_model("audit", "AuditEvent")
        previous = ""
        for seq in (1, 2):
            event = old_model(seq=seq, occurred_at=timezone.now(), kind="change", action="user.updated",
                              actor_id=None, actor_name="system", actor_role="", target_type="accounts.user",
                              target_id=str(seq), target_label="x", contract_id=None, customer_id=None,
                              changes={"n": [None, seq]}, ip="10.0.0.1", request_id=f"old-{seq}")
            event.mac = previous = chain.compute_mac(previous, event)  # no chain_version: read as 1
            event.save(force_insert=True)
    finally:
        MigrationExecutor(connection).migrate([after])
    migrated = AuditEvent.objects.get(request_id="old-2")
    assert (migrated.chain_version, migrated.user_agent, migrated.outcome, migrated.correlation_id) == (1, "", "", "")
    token = in_request(user_agent="UA/1")
    try:
        with transaction.atomic():
            new = audit_record(actor=None, action="user.updated", target=("accounts.user", "3", "y"))
    finally:
        context.current.reset(token)
    assert (new.seq, new.chain_version) == (3, 2)
    assert verify(AuditEvent.objects.all()).ok
