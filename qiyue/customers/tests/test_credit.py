"""The customer credit indicator: the rules (boundaries), the SQL filter agreeing with them on random
facts, the facts kept by every money change (payments, reversals), and the badge and filter on the
customers list, the customer page and the API."""

import datetime
import random

import pytest
from django.urls import reverse

from qiyue.customers import credit
from qiyue.customers.models import Customer
from qiyue.customers.tests.factories import make_customer

D = datetime.date
TODAY = D(2026, 6, 30)


@pytest.mark.parametrize(("since", "paid", "on_time", "level", "days"), [
    (None, 0, 0, "none", 0),
    (TODAY, 0, 0, "none", 0),  # due today is not overdue yet
    (TODAY - datetime.timedelta(days=1), 0, 0, "watch", 1),
    (TODAY - datetime.timedelta(days=90), 5, 5, "watch", 90),
    (TODAY - datetime.timedelta(days=91), 5, 5, "risk", 91),
    (None, 2, 0, "good", 0),  # too little history to judge the share
    (None, 3, 1, "risk", 0),  # 33 % on time
    (None, 4, 2, "watch", 0),  # 50 %: not under half
    (None, 5, 4, "good", 0),  # 80 %: not under 80 %
    (None, 10, 7, "watch", 0),
])
def test_the_rules_at_their_boundaries(since, paid, on_time, level, days):
    result = credit.credit(since, paid, on_time, TODAY)
    assert (result.level, result.days_overdue) == (level, days)


@pytest.mark.django_db
def test_the_sql_filter_agrees_with_the_rules_on_random_facts(users):
    rng = random.Random(12)
    expected = {}
    for index in range(80):
        since = rng.choice([None, TODAY, TODAY - datetime.timedelta(days=rng.randint(1, 200))])
        paid = rng.randint(0, 12)
        on_time = rng.randint(0, paid)
        customer = make_customer(users["sales"], name=f"信用测试客户{index}有限公司")
        Customer.objects.filter(pk=customer.pk).update(credit_overdue_since=since, credit_paid=paid,
                                                       credit_paid_on_time=on_time)
        expected[customer.pk] = credit.credit(since, paid, on_time, TODAY).level
    for level, _label in credit.LEVELS:
        found = set(credit.filter_level(Customer.objects.filter(pk__in=expected), level, TODAY)
                    .values_list("pk", flat=True))
        assert found == {pk for pk, want in expected.items() if want == level}, level


@pytest.mark.django_db
def test_payments_keep_the_facts_and_the_list_page_api_and_filter_show_them(client, users):
    from qiyue.finance import services, totals
    from qiyue.finance.tests.factories import plan, signed_contract
    from qiyue.finance.tests.test_api import client_for

    contract = signed_contract(users["sales"], amount="3000.00")
    plan(users["finance"], contract, (D(2026, 2, 1), "1000.00"), (D(2026, 3, 1), "1000.00"),
         (D(2026, 4, 1), "1000.00"))
    customer = contract.customer
    customer.refresh_from_db()
    assert customer.credit_overdue_since == D(2026, 2, 1) and customer.credit_paid == 0
    pay = services.payment_record(actor=users["finance"], contract=contract,
                                  data={"amount": "1000.00", "received_on": D(2026, 1, 30)})[0]
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "1000.00", "received_on": D(2026, 3, 20)})
    customer.refresh_from_db()
    assert (customer.credit_overdue_since, customer.credit_paid, customer.credit_paid_on_time) == (
        D(2026, 4, 1), 2, 1)
    services.payment_reverse(actor=users["finance"], payment=pay, reason="退票")
    customer.refresh_from_db()
    assert (customer.credit_overdue_since, customer.credit_paid, customer.credit_paid_on_time) == (
        D(2026, 2, 1), 1, 0)
    assert list(totals.customer_differences()) == []

    # As of the real today (after April 2026) the oldest unpaid installment is more than 90 days overdue.
    client.force_login(users["sales"])
    html = client.get(reverse("customers:list"), {"credit": "risk"}).content.decode()
    assert customer.name in html and 'data-level="risk"' in html
    assert customer.name not in client.get(reverse("customers:list"), {"credit": "good"}).content.decode()
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="credit-explained"' in html and "0 of 1" in html
    body = client_for(users["sales"]).get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["credit"]["level"] == "risk" and body["credit"]["paid"] == 1
    listed = client_for(users["sales"]).get("/api/v1/customers/", {"credit": "risk"}).json()
    assert [row["id"] for row in listed["results"]] == [customer.pk]
    assert client_for(users["sales"]).get("/api/v1/customers/", {"credit": "excellent"}).status_code == 400


@pytest.mark.django_db
def test_the_check_command_finds_and_fixes_a_stale_customer(users):
    from django.core.management import CommandError, call_command

    customer = make_customer(users["sales"])
    Customer.objects.filter(pk=customer.pk).update(credit_paid=7)
    with pytest.raises(CommandError):
        call_command("finance", "check")
    call_command("finance", "check", "--fix")
    customer.refresh_from_db()
    assert customer.credit_paid == 0
    call_command("finance", "check")
