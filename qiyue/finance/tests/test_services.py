"""The finance services against the real database: the plan, payments and their allocation and
reversal, idempotency, obligations and the installments that wait for them, who may do what, and
that a refused write changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.errors import ApplicationError
from qiyue.finance import selectors, services
from qiyue.finance.models import Installment, Obligation, Payment, PaymentAllocation
from qiyue.finance.tests.factories import plan, signed_contract

pytestmark = pytest.mark.django_db
D = Decimal
day = datetime.date


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ApplicationError) as caught:
        call(*args, **kwargs)
    return caught.value.code


@pytest.fixture
def contract(users):
    contract = signed_contract(users["sales"], amount="100000.00")
    plan(users["finance"], contract, (day(2026, 2, 1), "30000.00"), (day(2026, 4, 1), "50000.00"),
         (day(2026, 6, 1), "20000.00"))
    return contract


MAY_FIRST = datetime.date(2026, 5, 1)


def pay(users, contract, amount, *, who="finance", on=MAY_FIRST, **kwargs):
    return services.payment_record(actor=users[who], contract=contract,
                                   data={"amount": amount, "received_on": on, **kwargs.pop("data", {})}, **kwargs)[0]


def installments(contract):
    return list(Installment.objects.filter(contract=contract).order_by("position"))


# --- the plan ---------------------------------------------------------------------------------------

def test_a_plan_is_saved_in_order_and_shows_what_it_leaves_unplanned(users):
    contract = signed_contract(users["sales"], amount="100000.00")
    saved = plan(users["finance"], contract, (day(2026, 3, 1), "40000.00"), (day(2026, 2, 1), "30000.00"))
    rows = installments(contract)
    assert [(r.position, r.due_date, r.amount, r.currency) for r in rows] == [
        (1, day(2026, 3, 1), D("40000.00"), "CNY"), (2, day(2026, 2, 1), D("30000.00"), "CNY")]
    assert saved.version == 2
    summary = selectors.contract_money(contract=contract, as_of=day(2026, 2, 15))
    assert summary.planned == D("70000.00") and summary.unplanned == D("30000.00")
    assert summary.overdue == D("30000.00") and summary.outstanding == D("70000.00")
    event = AuditEvent.objects.filter(action="payment_plan.saved").latest("id")
    assert event.target_id == str(contract.pk) and event.changes["unplanned"] == "30,000.00 CNY"


def test_a_plan_beyond_the_contract_or_with_bad_rows_is_refused_and_changes_nothing(users, contract):
    before = [(r.pk, r.amount) for r in installments(contract)]
    finance = users["finance"]
    assert code_of(plan, finance, contract, (day(2026, 2, 1), "100000.01")) == "plan_exceeds_contract"
    for row, field in (({"amount": "-1", "due_date": "2026-01-01"}, "installments.0.amount"),
                       ({"amount": "abc", "due_date": "2026-01-01"}, "installments.0.amount"),
                       ({"amount": "1.001", "due_date": "2026-01-01"}, "installments.0.amount"),
                       ({"amount": "1e30", "due_date": "2026-01-01"}, "installments.0.amount"),
                       ({"amount": "10"}, "installments.0.due_date"),
                       ({"amount": "10", "due_date": "2026-13-01"}, "installments.0.due_date"),
                       ({"amount": "10", "due_date": "2026-01-01", "condition": "x" * 301}, "installments.0.condition"),
                       ({"amount": "10", "id": 999999, "due_date": "2026-01-01"}, "installments.0.id"),
                       ({"amount": "10", "obligation": 999999}, "installments.0.obligation")):
        with pytest.raises(ApplicationError) as caught:
            services.payment_plan_save(actor=finance, contract=contract, installments=[row], expected_version=None)
        assert caught.value.code == "invalid" and field in caught.value.fields, (row, caught.value.fields)
    assert code_of(services.payment_plan_save, actor=finance, contract=contract, expected_version=None,
                   installments=[{"amount": "1", "due_date": "2026-01-01"}] * 121) == "invalid"
    assert code_of(services.payment_plan_save, actor=finance, contract=contract, expected_version=None,
                   installments="nonsense") == "invalid"
    assert [(r.pk, r.amount) for r in installments(contract)] == before


def test_a_stale_plan_edit_is_refused(users, contract):
    version = contract.payment_plan.version
    rows = [{"id": r.pk, "due_date": r.due_date, "amount": r.amount} for r in installments(contract)]
    services.payment_plan_save(actor=users["finance"], contract=contract, installments=rows[:2],
                               expected_version=version)
    assert code_of(services.payment_plan_save, actor=users["finance"], contract=contract, installments=rows,
                   expected_version=version) == "stale_version"


def test_who_may_change_a_plan(users):
    draft = make_contract(users["sales"], amount=D("1000.00"))
    plan(users["sales"], draft, (day(2026, 2, 1), "1000.00"))  # a draft's plan: its editors
    assert code_of(plan, users["sales_b"], draft, (day(2026, 2, 1), "1.00")) == "permission_denied"
    signed = signed_contract(users["sales"], amount="1000.00")
    assert code_of(plan, users["sales"], signed, (day(2026, 2, 1), "1.00")) == "permission_denied"
    assert code_of(plan, users["legal"], signed, (day(2026, 2, 1), "1.00")) == "permission_denied"
    plan(users["finance"], signed, (day(2026, 2, 1), "1000.00"))
    plan(users["admin"], signed, (day(2026, 2, 1), "900.00"))


def test_an_installment_with_money_keeps_at_least_what_it_received(users, contract):
    pay(users, contract, "35000.00")
    first, second, third = installments(contract)
    finance = users["finance"]
    rows = [{"id": first.pk, "due_date": first.due_date, "amount": "30000.00"},
            {"id": second.pk, "due_date": second.due_date, "amount": "4000.00"},
            {"id": third.pk, "due_date": third.due_date, "amount": "20000.00"}]
    assert code_of(services.payment_plan_save, actor=finance, contract=contract, installments=rows,
                   expected_version=None) == "installment_has_payments"
    assert code_of(services.payment_plan_save, actor=finance, contract=contract, expected_version=None,
                   installments=[rows[0], rows[2]]) == "installment_has_payments"
    # Reordered and the untouched one removed: allowed.
    rows[1]["amount"] = "5000.00"
    services.payment_plan_save(actor=finance, contract=contract, installments=[rows[1], rows[0]],
                               expected_version=None)
    assert [(r.pk, r.position, r.received) for r in installments(contract)] == [
        (second.pk, 1, D("5000.00")), (first.pk, 2, D("30000.00"))]


# --- payments ---------------------------------------------------------------------------------------

def test_a_payment_pays_the_oldest_installments_first(users, contract):
    payment = pay(users, contract, "40000.00", data={"method": "acceptance_bill", "payer": "上海某某有限公司",
                                                      "bank_reference": "CMB-0001"})
    assert [(r.received, r.paid_on) for r in installments(contract)] == [
        (D("30000.00"), day(2026, 5, 1)), (D("10000.00"), None), (D("0.00"), None)]
    assert payment.customer_id == contract.customer_id and payment.advance == 0
    event = AuditEvent.objects.get(action="payment.recorded")
    assert event.changes["allocations"] == {"#1": "30,000.00 CNY", "#2": "10,000.00 CNY"}
    assert event.changes["payer"] == "上海某某有限公司"
    summary = selectors.contract_money(contract=contract, as_of=day(2026, 5, 1))
    assert summary.received == D("40000.00") and summary.outstanding == D("60000.00")
    assert summary.overdue == D("40000.00") and summary.aging["d1_30"] == D("40000.00")
    assert summary.received_share == 40


def test_a_manual_allocation(users, contract):
    first, second, third = installments(contract)
    pay(users, contract, "25000.00", allocations={str(third.pk): "20000.00", second.pk: "5000.00"})
    assert [r.received for r in installments(contract)] == [D("0.00"), D("5000.00"), D("20000.00")]
    for allocations in ({first.pk: "30000.01"}, {999999: "1.00"}, {first.pk: "20000.00", second.pk: "20000.00"},
                        {"x": "1"}):
        assert code_of(pay, users, contract, "25000.00", allocations=allocations) in ("allocation_invalid",
                                                                                       "invalid")


def test_more_than_is_owed_is_refused_unless_it_is_an_advance(users, contract):
    assert code_of(pay, users, contract, "100000.01") == "overpayment"
    assert not Payment.objects.exists() and not AuditEvent.objects.filter(action="payment.recorded").exists()
    payment = pay(users, contract, "100500.00", as_advance=True)
    assert payment.advance == D("500.00")
    assert all(r.received == r.amount for r in installments(contract))
    assert selectors.contract_money(contract=contract).advance == D("500.00")


def test_a_contract_that_owes_nothing_takes_only_an_advance(users):
    draft = make_contract(users["sales"], amount=D("1000.00"))
    plan(users["sales"], draft, (day(2026, 2, 1), "1000.00"))
    assert code_of(pay, users, draft, "100.00") == "nothing_owed"
    payment = pay(users, draft, "100.00", as_advance=True)
    assert payment.advance == D("100.00") and not PaymentAllocation.objects.exists()


def test_bad_payments_are_refused_with_their_field(users, contract):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    for amount, data, field in (("0", {}, "amount"), ("abc", {}, "amount"), ("1.234", {}, "amount"),
                                ("NaN", {}, "amount"), ("1", {"received_on": tomorrow}, "received_on"),
                                ("1", {"received_on": "2026-02-30"}, "received_on"),
                                ("1", {"method": "barter"}, "method"), ("1", {"payer": "x" * 201}, "payer"),
                                ("1", {"currency": "USD"}, "currency")):
        with pytest.raises(ApplicationError) as caught:
            services.payment_record(actor=users["finance"], contract=contract,
                                    data={"amount": amount, "received_on": day(2026, 5, 1), **data})
        assert field in caught.value.fields, (amount, data, caught.value.fields)
    assert not Payment.objects.exists()


def test_only_finance_and_administrators_record_and_reverse_payments(users, contract):
    for who in ("sales", "manager", "legal", "auditor"):
        assert code_of(pay, users, contract, "1.00", who=who) == "permission_denied"
    payment = pay(users, contract, "1.00", who="admin")
    assert code_of(services.payment_reverse, actor=users["sales"], payment=payment, reason="错") == "permission_denied"


def test_an_idempotency_key_records_one_payment(users, contract):
    first, created = services.payment_record(actor=users["finance"], contract=contract, idempotency_key="k-1",
                                             request_fingerprint="a",
                                             data={"amount": "100.00", "received_on": day(2026, 5, 1)})
    again, created_again = services.payment_record(actor=users["finance"], contract=contract, idempotency_key="k-1",
                                                   request_fingerprint="a",
                                                   data={"amount": "100.00", "received_on": day(2026, 5, 1)})
    assert created and not created_again and again.pk == first.pk and Payment.objects.count() == 1
    assert code_of(services.payment_record, actor=users["finance"], contract=contract, idempotency_key="k-1",
                   request_fingerprint="b", data={"amount": "200.00", "received_on": day(2026, 5, 1)}
                   ) == "idempotency_conflict"
    # Keys are per user: another finance user's k-1 is theirs.
    other = services.payment_record(actor=users["admin"], contract=contract, idempotency_key="k-1",
                                    request_fingerprint="a", data={"amount": "100.00", "received_on": day(2026, 5, 1)})
    assert other[1] and Payment.objects.count() == 2


def test_a_reversal_keeps_the_payment_and_owes_its_money_again(users, contract):
    payment = pay(users, contract, "40000.00")
    assert code_of(services.payment_reverse, actor=users["finance"], payment=payment, reason=" ") == "reason_required"
    services.payment_reverse(actor=users["finance"], payment=payment, reason="银行退票")
    payment.refresh_from_db()
    assert payment.status == "reversed" and payment.reversal_reason == "银行退票"
    assert [(r.received, r.paid_on) for r in installments(contract)] == [(D("0.00"), None)] * 3
    assert code_of(services.payment_reverse, actor=users["finance"], payment=payment, reason="再来") == "already_reversed"
    summary = selectors.contract_money(contract=contract)
    assert summary.received == 0 and len(summary.payments) == 1
    assert AuditEvent.objects.get(action="payment.reversed").changes["reversal_reason"] == "银行退票"


def test_payment_events_show_on_the_contract_and_customer_timelines(users, contract):
    from qiyue.audit.selectors import timeline

    pay(users, contract, "10.00")
    assert any(event.action == "payment.recorded" for event in timeline(contract_id=contract.pk))


# --- obligations ------------------------------------------------------------------------------------

def test_completing_a_milestone_sets_the_due_date_of_the_installment_that_waits_for_it(users):
    contract = signed_contract(users["sales"], amount="10000.00")
    acceptance = services.obligation_create(actor=users["sales"], contract=contract, data={
        "party": "ours", "description": "交付并通过验收", "due_date": "2026-03-01", "owner": users["sales"].pk})
    services.payment_plan_save(actor=users["finance"], contract=contract, expected_version=None, installments=[
        {"amount": "3000.00", "due_date": "2026-01-20"},
        {"amount": "7000.00", "obligation": acceptance.pk, "days_after": 30, "condition": "验收后 30 日"}])
    waiting = installments(contract)[1]
    assert waiting.due_date is None
    services.obligation_complete(actor=users["sales"], obligation=acceptance, done_on=day(2026, 3, 5))
    waiting.refresh_from_db()
    assert waiting.due_date == day(2026, 4, 4)
    assert AuditEvent.objects.get(action="obligation.done").changes["installments_due"]
    services.obligation_reopen(actor=users["sales"], obligation=acceptance)
    waiting.refresh_from_db()
    assert waiting.due_date is None


def test_late_is_derived_and_done_or_waived_do_not_count(users):
    contract = signed_contract(users["sales"], amount="10000.00")
    made = [services.obligation_create(actor=users["sales"], contract=contract, data={
        "description": text, "due_date": due, "party": party}) for text, due, party in (
        ("交付设备", "2026-03-01", "ours"), ("提供场地", "2026-02-01", "customer"), ("培训", "2026-05-01", "ours"))]
    services.obligation_waive(actor=users["manager"], obligation=made[1], reason="客户已自备")
    rows = selectors.contract_obligations(contract=contract, as_of=day(2026, 3, 10))
    assert [(r.obligation.description, r.late, r.days_late) for r in rows] == [
        ("交付设备", True, 9), ("培训", False, 0), ("提供场地", False, 0)]
    assert selectors.obligation_progress(rows) == (0, 2)


def test_obligation_rules_and_bad_input(users):
    contract = signed_contract(users["sales"], amount="10000.00")
    sales, other = users["sales"], users["sales_b"]
    assert code_of(services.obligation_create, actor=other, contract=contract,
                   data={"description": "x"}) in ("permission_denied", "not_found")
    for data, field in (({"description": ""}, "description"), ({"description": "x" * 501}, "description"),
                        ({"description": "x", "party": "them"}, "party"),
                        ({"description": "x", "due_date": "soon"}, "due_date"),
                        ({"description": "x", "owner": other.pk}, "owner"),
                        ({"description": "x", "owner": "abc"}, "owner")):
        with pytest.raises(ApplicationError) as caught:
            services.obligation_create(actor=sales, contract=contract, data=data)
        assert field in caught.value.fields
    assert not Obligation.objects.exists()
    item = services.obligation_create(actor=sales, contract=contract, data={"description": "交付", "owner": sales.pk})
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert code_of(services.obligation_complete, actor=sales, obligation=item, done_on=tomorrow) == "invalid"
    assert code_of(services.obligation_complete, actor=sales, obligation=item, done_on=day(2026, 3, 1),
                   evidence=999999) == "invalid"
    assert code_of(services.obligation_waive, actor=sales, obligation=item, reason="") == "reason_required"
    services.obligation_update(actor=sales, obligation=item, data={"description": "交付两台"}, expected_version=1)
    assert code_of(services.obligation_update, actor=sales, obligation=item, data={"description": "再改"},
                   expected_version=1) == "stale_version"
    services.obligation_complete(actor=sales, obligation=item, done_on=day(2026, 3, 1))
    assert code_of(services.obligation_complete, actor=sales, obligation=item,
                   done_on=day(2026, 3, 1)) == "obligation_closed"


def test_an_obligations_owner_may_complete_it_without_editing_the_contract(users):
    contract = signed_contract(users["sales"], amount="10000.00")
    item = services.obligation_create(actor=users["sales"], contract=contract, data={
        "description": "法务出具意见", "owner": users["legal"].pk})
    assert code_of(services.obligation_create, actor=users["legal"], contract=contract,
                   data={"description": "x"}) == "permission_denied"
    services.obligation_complete(actor=users["legal"], obligation=item, done_on=day(2026, 3, 1))
