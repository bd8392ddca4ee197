"""ContractStat is kept exact by database triggers, whatever writes the contract table."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from qiyue.accounts.tests.factories import make_user
from qiyue.contracts.models import Contract, ContractStat
from qiyue.contracts.services import contract_transition, contract_update
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db


def from_stats():
    rows = ContractStat.objects.filter(count__gt=0).values_list("team_id", "owner_id", "status", "currency", "count",
                                                                 "amount")
    return {(t, o, s, c): (n, Decimal(a).quantize(Decimal("0.01"))) for t, o, s, c, n, a in rows}


def from_contracts():
    rows = (Contract.objects.filter(deleted_at__isnull=True).values("team_id", "owner_id", "status", "currency")
            .annotate(n=Count("id"), total=Sum("amount")))
    return {(r["team_id"] or 0, r["owner_id"], r["status"], r["currency"]): (r["n"], r["total"].quantize(Decimal("0.01")))
            for r in rows}


def test_every_kind_of_write_keeps_the_stats_exact(users):
    a = make_contract(users["sales"], amount=Decimal("100.50"))
    b = make_contract(users["sales_b"], amount=Decimal("2000.00"), currency="USD")
    c = make_contract(make_user("sales"), amount=Decimal("7.25"))  # no team
    assert from_stats() == from_contracts()
    contract_update(actor=users["sales"], contract=a, expected_version=None,
                    data={"amount": Decimal("300.00"), "owner": users["sales2"]})
    contract_transition(actor=users["sales_b"], contract=b, name="submit")
    assert from_stats() == from_contracts()
    Contract.objects.filter(pk=c.pk).update(deleted_at=datetime.datetime.now(datetime.UTC))  # soft delete
    assert from_stats() == from_contracts()
    Contract.objects.filter(pk=b.pk).delete()
    with connection.cursor() as cursor:  # raw SQL too
        cursor.execute("UPDATE contracts_contract SET status = 'active' WHERE id = %s", [a.pk])
    assert from_stats() == from_contracts()
    assert sum(n for n, _amount in from_stats().values()) == 1
