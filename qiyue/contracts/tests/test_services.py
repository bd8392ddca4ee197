import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from qiyue.contracts.numbering import next_contract_number
from qiyue.contracts.services import contract_create, contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.errors import ApplicationError
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_number_follows_pattern_and_is_never_reused(users):
    year = datetime.date.today().year
    first = make_contract(users["sales"])
    second = make_contract(users["sales"])
    assert first.number == f"HT-{year}-00001"
    assert second.number == f"HT-{year}-00002"
    Contract.objects.filter(pk=second.pk).delete()
    assert make_contract(users["sales"]).number == f"HT-{year}-00003"


def test_number_pattern_is_configurable(settings):
    settings.QIYUE_CONTRACT_NUMBER_PATTERN = "QY{year}{month:02d}-{seq:04d}"
    assert next_contract_number(datetime.date(2026, 5, 1)) == "QY202605-0001"
    assert next_contract_number(datetime.date(2026, 5, 9)) == "QY202605-0002"
    assert next_contract_number(datetime.date(2026, 6, 1)) == "QY202606-0001"


def test_create_writes_exactly_one_event_with_the_facts(users):
    before = AuditEvent.objects.count()
    customer = make_customer(users["sales"])
    contract = make_contract(users["sales"], customer=customer, amount=Decimal("1234.50"))
    events = list(AuditEvent.objects.filter(contract_id=contract.pk))
    assert len(events) == 1 and AuditEvent.objects.count() == before + 2
    event = events[0]
    assert event.action == "contract.created"
    assert event.actor_name == str(users["sales"]) and event.actor_role == "sales"
    assert event.customer_id == customer.pk
    assert event.changes["amount"] == [None, "1234.50"]
    assert event.target_label == str(contract)


def base_data(users, **extra):
    data = {"title": "设备采购合同", "customer": make_customer(users["sales"]),
            "amount": Decimal("100.00"), "currency": "CNY"}
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("extra", "field", "code"),
    [
        ({"effective_date": datetime.date(2026, 5, 1), "expiry_date": datetime.date(2026, 4, 1)},
         "expiry_date", "expiry_before_effective"),
        ({"amount": Decimal("-1.00")}, "amount", "min_value"),
        ({"amount": Decimal("1.005")}, "amount", "max_decimal_places"),
        ({"currency": "RMB"}, "currency", "unknown_currency"),
        ({"nature": "gift"}, "nature", "invalid_choice"),
        ({"signing_form": "telepathy"}, "signing_form", "invalid_choice"),
        ({"title": "长" * 201}, "title", "max_length"),
        ({"title": ""}, "title", "blank"),
        ({"tax_rate": Decimal("101")}, "tax_rate", "max_value"),
    ],
)
def test_bad_input_is_refused_and_saves_nothing(users, extra, field, code):
    data = base_data(users, **extra)
    contracts, events = Contract.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        contract_create(actor=users["sales"], data=data)
    assert code in [e.code for e in exc.value.error_dict[field]]
    assert Contract.objects.count() == contracts
    assert AuditEvent.objects.count() == events


def test_an_amount_with_more_decimals_than_its_currency_allows_is_refused(users):
    """JPY has no minor unit: 100.50 yen is refused on the amount field (the column keeps two
    decimals for every currency); 100 yen and 100.50 in CNY are fine."""
    refused = [base_data(users, amount=Decimal("100.50"), currency="JPY"),
               base_data(users, amount=Decimal("0.01"), currency="KRW")]
    contracts, events = Contract.objects.count(), AuditEvent.objects.count()
    for data in refused:
        with pytest.raises(ValidationError) as exc:
            contract_create(actor=users["sales"], data=data)
        assert [e.code for e in exc.value.error_dict["amount"]] == ["amount_decimals"]
    assert Contract.objects.count() == contracts and AuditEvent.objects.count() == events
    assert contract_create(actor=users["sales"], data=base_data(users, amount=Decimal("100.00"),
                                                                currency="JPY")).amount == Decimal("100")
    assert contract_create(actor=users["sales"], data=base_data(users, amount=Decimal("100.50"),
                                                                currency="CNY")).amount == Decimal("100.50")


def test_changing_the_currency_rechecks_the_amount(users):
    contract = make_contract(users["sales"], amount=Decimal("1234.56"), currency="CNY")
    with pytest.raises(ValidationError) as exc:
        contract_update(actor=users["sales"], contract=contract, data={"currency": "JPY"},
                        expected_version=contract.version)
    assert [e.code for e in exc.value.error_dict["amount"]] == ["amount_decimals"]
    contract.refresh_from_db()
    assert (contract.amount, contract.currency) == (Decimal("1234.56"), "CNY")


def test_missing_customer(users):
    with pytest.raises(ApplicationError) as exc:
        contract_create(actor=users["sales"], data={"title": "x"})
    assert "customer" in exc.value.fields


def test_duplicate_number(users):
    make_contract(users["sales"], number="HT-MANUAL-1")
    with pytest.raises(ValidationError) as exc:
        make_contract(users["sales"], number="HT-MANUAL-1")
    assert [e.code for e in exc.value.error_dict["number"]] == ["unique"]


def test_invisible_customer_counts_as_missing(users):
    other = make_customer(users["sales_b"])
    with pytest.raises(ApplicationError) as exc:
        contract_create(actor=users["sales"], data={"title": "x", "customer": other})
    assert "customer" in exc.value.fields


def test_supplement_links_both_ways_and_stays_with_its_customer(users):
    framework = make_contract(users["sales"], title="年度框架协议")
    supplement = make_contract(users["sales"], customer=framework.customer, parent=framework)
    assert list(framework.supplements.all()) == [supplement]
    with pytest.raises(ValidationError) as exc:
        make_contract(users["sales"], parent=framework)  # another customer
    assert [e.code for e in exc.value.error_dict["parent"]] == ["parent_other_customer"]
    with pytest.raises(ValidationError):
        make_contract(users["sales"], customer=framework.customer, parent=supplement)


def test_update_records_exact_diff_and_bumps_version(users):
    contract = make_contract(users["sales"], amount=Decimal("100.00"))
    updated = contract_update(actor=users["sales"], contract=contract, expected_version=1,
                              data={"amount": Decimal("250.00"), "title": contract.title, "tags": "重点, 年度"})
    assert updated.version == 2
    event = AuditEvent.objects.filter(contract_id=contract.pk).order_by("-seq").first()
    assert event.action == "contract.updated"
    assert event.changes == {"amount": ["100.00", "250.00"], "tags": ["", "重点,年度"]}


def test_update_without_change_writes_nothing(users):
    contract = make_contract(users["sales"])
    events = AuditEvent.objects.count()
    contract_update(actor=users["sales"], contract=contract, expected_version=1, data={"title": contract.title})
    assert AuditEvent.objects.count() == events
    contract.refresh_from_db()
    assert contract.version == 1


def test_two_editors_one_gets_stale_version(users):
    contract = make_contract(users["sales"])
    # Both opened version 1.
    contract_update(actor=users["sales"], contract=contract, expected_version=1, data={"title": "第一位"})
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales2"], contract=contract, expected_version=1, data={"title": "第二位"})
    assert exc.value.code == "stale_version" and exc.value.status == 409
    contract.refresh_from_db()
    assert contract.title == "第一位"


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("admin", True), ("manager", True), ("sales", True), ("sales2", True), ("sales_b", False),
     ("manager_b", False), ("legal", False), ("finance", False), ("auditor", False)],
)
def test_who_may_edit(users, who, allowed):
    contract = make_contract(users["sales"])
    if allowed:
        assert contract_update(actor=users[who], contract=contract, expected_version=None,
                               data={"title": "改"}).title == "改"
    else:
        with pytest.raises(ApplicationError) as exc:
            contract_update(actor=users[who], contract=contract, expected_version=None, data={"title": "改"})
        assert exc.value.code == "permission_denied"


def test_number_is_fixed_after_draft(users):
    from qiyue.contracts.services import contract_transition

    contract = make_contract(users["sales"])
    contract = contract_transition(actor=users["sales"], contract=contract, name="submit")
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales"], contract=contract, expected_version=None, data={"number": "NEW-1"})
    assert "number" in exc.value.fields


def test_sales_cannot_assign_outside_team(users):
    with pytest.raises(ApplicationError) as exc:
        contract_create(actor=users["sales"], data=base_data(users, owner=users["sales_b"]))
    assert "owner" in exc.value.fields


def test_a_typed_number_never_blocks_the_sequence(users):
    year = datetime.date.today().year
    make_contract(users["sales"], number=f"HT-{year}-00001")
    make_contract(users["sales"], number=f"HT-{year}-00002")
    assert make_contract(users["sales"]).number == f"HT-{year}-00003"


@pytest.mark.parametrize("status", ["completed", "expired", "terminated", "cancelled"])
def test_a_closed_contract_can_no_longer_be_edited(users, status):
    contract = make_contract(users["sales"])
    Contract.objects.filter(pk=contract.pk).update(status=status)
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales"], contract=contract, expected_version=None, data={"amount": Decimal("1")})
    assert exc.value.code == "contract_closed"
