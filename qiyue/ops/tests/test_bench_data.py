"""The benchmark's data set is like a real company's: an audit log the services would have written (a
valid chain, a creation event per customer and contract, histories, document events) that the customer
360 timeline shows, and contracts with their optional facts filled."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from bench.generate import generate
from bench.search_data import add_document_events, generate_documents
from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent
from qiyue.audit.selectors import customer_timeline
from qiyue.contracts.models import Contract
from qiyue.customers.models import Customer
from qiyue.customers.views import TIMELINE_EVENTS

# As the benchmark loads it: outside a test transaction (SQLite's pragmas, PostgreSQL's VACUUM).
pytestmark = pytest.mark.django_db(transaction=True)

CONTRACTS = 300


@pytest.fixture
def facts():
    return generate(contracts=CONTRACTS, seed=7)


def test_the_audit_chain_verifies_with_document_events_after_it(facts):
    generate_documents(documents=40, long_share=0.0)
    before = AuditEvent.objects.count()
    added = add_document_events()
    assert added >= 40 and AuditEvent.objects.count() == before + added
    result = verify(AuditEvent.objects.all())
    assert result.ok, result
    assert result.checked == before + added
    call_command("audit", "verify", stdout=io.StringIO())  # raises CommandError when the chain is broken
    uploads = AuditEvent.objects.filter(action="document.uploaded")
    assert uploads.count() == 40
    assert uploads.filter(contract_id__isnull=False, customer_id__isnull=False).count() == 40
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCESS, action__startswith="document.").exists()
    # Of different ages, like the documents: not all "now".
    days = {e.date() for e in uploads.values_list("occurred_at", flat=True)}
    assert len(days) > 20


def test_every_customer_and_contract_has_its_creation_event_at_its_creation(facts):
    created = dict(AuditEvent.objects.filter(action="contract.created").values_list("contract_id", "occurred_at"))
    contracts = dict(Contract.objects.values_list("id", "created_at"))
    assert created == contracts
    customers = dict(Customer.objects.values_list("id", "created_at"))
    assert dict(AuditEvent.objects.filter(action="customer.created").values_list("customer_id", "occurred_at")) \
        == customers
    # A customer exists before its contracts; nothing happened in the future.
    first = {}
    for customer_id, at in Contract.objects.values_list("customer_id", "created_at"):
        first[customer_id] = min(at, first.get(customer_id, at))
    assert all(customers[cid] < at for cid, at in first.items())
    now = datetime.datetime.now(datetime.UTC)
    assert not AuditEvent.objects.filter(occurred_at__gt=now).exists()
    # The chain runs in time order, each event by an actor with the request's facts.
    times = list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)
    event = AuditEvent.objects.filter(action="contract.created").first()
    assert event.actor_id and event.actor_name and event.actor_role and event.ip and len(event.request_id) == 32
    assert event.changes["number"][1] == Contract.objects.get(pk=event.contract_id).number


def test_contracts_have_histories_that_end_in_their_status(facts):
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"contract.updated", "contract.submit", "contract.return", "contract.approve", "contract.sign",
            "contract.activate", "contract.complete"} <= actions
    last = {}
    for contract_id, changes in (AuditEvent.objects.filter(action__startswith="contract.")
                                 .exclude(action__in=["contract.created", "contract.updated"])
                                 .order_by("seq").values_list("contract_id", "changes")):
        last[contract_id] = changes["status"][1]
    assert len(last) > CONTRACTS // 5
    statuses = dict(Contract.objects.filter(pk__in=last).values_list("id", "status"))
    assert last == statuses
    signed = AuditEvent.objects.filter(action="contract.sign").first()
    contract = Contract.objects.get(pk=signed.contract_id)
    assert signed.changes["signing_date"][1] == contract.signing_date.isoformat()
    assert signed.changes["signing_method"][1] == contract.signing_method
    assert AuditEvent.objects.filter(action="contract.activate", actor_id__isnull=True, request_id="").exists()


def test_the_biggest_customers_360_timeline_lists_its_contracts_events(facts, client):
    customer, legal = facts["biggest_customer"], facts["legal"]
    events = customer_timeline(user=legal, customer_id=customer.pk)
    assert len(events) >= 5
    assert {e.contract_id for e in events if e.contract_id} <= set(customer.contracts.values_list("id", flat=True))
    assert any(e.action == "contract.created" for e in events)
    client.force_login(legal)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    response = client.get(reverse("customers:timeline", args=[customer.pk]))  # the page's timeline tab
    assert response.status_code == 200
    # The tab shows the newest of them (customers.views.TIMELINE_EVENTS), all when there are fewer.
    assert len(response.context["timeline"]) == min(len(events), TIMELINE_EVENTS)
    assert [row["event"].pk for row in response.context["timeline"]] == [e.pk for e in events[:TIMELINE_EVENTS]]


def test_most_contracts_have_their_optional_facts(facts):
    contracts = Contract.objects.all()
    total = contracts.count()
    assert total == CONTRACTS
    for field in ("our_entity", "counterparty_signatory", "tags", "description"):
        assert contracts.exclude(**{field: ""}).count() > total * 0.6, field
    assert contracts.filter(notice_period_days__gt=0).exists()
    assert contracts.filter(auto_renewal=True).exists()
    supplement = contracts.filter(parent__isnull=False).select_related("parent").first()
    assert supplement.parent.customer_id == supplement.customer_id and supplement.parent.parent_id is None
    signed = contracts.filter(status__in=["signed", "active", "completed", "expired", "terminated"])
    assert not signed.filter(signing_method="").exists()
    assert not contracts.filter(status="draft", signing_date__isnull=False).exists()
    for contract in contracts:  # what the forms and services would accept
        contract.full_clean()
