"""ContractStat is kept exact by database triggers, whatever writes the contract table."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from qiyue.accounts.tests.factories import make_user
from qiyue.contracts.models import Contract, ContractMonthStat, ContractStat
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


def month_stats():
    rows = ContractMonthStat.objects.filter(count__gt=0).values_list("team_id", "owner_id", "measure", "month",
                                                                      "currency", "count", "amount")
    return {(t, o, m, mo, c): (n, Decimal(a).quantize(Decimal("0.01"))) for t, o, m, mo, c, n, a in rows}


def months_from_contracts():
    """What ContractMonthStat must hold, worked out in Python from the contract rows."""
    expected: dict = {}
    for contract in Contract.objects.filter(deleted_at__isnull=True):
        for measure, day, counted in (
                ("signed", contract.signing_date, contract.signing_date is not None),
                ("expiring", contract.expiry_date, contract.expiry_date is not None
                 and contract.status in ("signed", "active"))):
            if not counted:
                continue
            key = (contract.team_id or 0, contract.owner_id, measure, day.year * 100 + day.month, contract.currency)
            n, total = expected.get(key, (0, Decimal("0.00")))
            expected[key] = (n + 1, (total + contract.amount).quantize(Decimal("0.01")))
    return expected


def test_every_kind_of_write_keeps_the_month_stats_exact(users):
    admin = users["admin"]
    a = make_contract(users["sales"], amount=Decimal("100.50"), expiry_date=datetime.date(2027, 3, 31))
    b = make_contract(users["sales_b"], amount=Decimal("2000.00"), currency="USD")
    c = make_contract(make_user("sales"), amount=Decimal("7.25"))  # no team
    assert month_stats() == months_from_contracts() == {}  # drafts: neither signed nor able to expire
    for contract in (a, b, c):
        for name in ("submit", "approve"):  # the owner submits: an administrator may approve it
            contract = contract_transition(actor=contract.owner, contract=contract, name=name,
                                           via_workflow=name == "approve")
        contract_transition(actor=admin, contract=contract, name="sign", signing_method="wet_ink",
                            signing_date=datetime.date(2026, 1, 15))
    assert month_stats() == months_from_contracts()
    assert len(month_stats()) == 6  # three signed in 2026-01, three expiring
    key = (users["sales"].team_id, users["sales"].pk, "signed", 202601, "CNY")
    assert month_stats()[key] == (1, Decimal("100.50"))
    # A later expiry date, an owner change, activation and termination, all move the right rows.
    Contract.objects.filter(pk=a.pk).update(expiry_date=datetime.date(2028, 6, 30), owner=users["sales2"])
    assert month_stats() == months_from_contracts()
    a.refresh_from_db()
    contract_transition(actor=admin, contract=a, name="activate", confirm_early=True)
    assert month_stats() == months_from_contracts()
    a.refresh_from_db()
    contract_transition(actor=admin, contract=a, name="terminate", reason="违约")  # no longer expiring
    assert month_stats() == months_from_contracts()
    assert not [k for k in month_stats() if k[1] == users["sales2"].pk and k[2] == "expiring"]
    Contract.objects.filter(pk=c.pk).update(deleted_at=datetime.datetime.now(datetime.UTC))  # soft delete
    Contract.objects.filter(pk=b.pk).delete()
    with connection.cursor() as cursor:  # raw SQL too
        cursor.execute("UPDATE contracts_contract SET signing_date = %s, amount = 5 WHERE id = %s",
                       [datetime.date(2026, 2, 1), a.pk])
    assert month_stats() == months_from_contracts()
    assert [k[3] for k in month_stats()] == [202602]


def test_reinstalling_recounts_the_month_stats(users):
    from qiyue.contracts.stat_triggers import drop_stat_triggers, install_stat_triggers

    admin = users["admin"]
    contract = make_contract(users["sales"])
    drop_stat_triggers()
    for name in ("submit", "approve"):
        contract = contract_transition(actor=admin, contract=contract, name=name, via_workflow=name == "approve")
    contract_transition(actor=admin, contract=contract, name="sign", signing_method="wet_ink",
                        signing_date=datetime.date(2026, 1, 15))
    assert month_stats() == {}  # written while the triggers were away (a bulk load)
    install_stat_triggers()
    assert month_stats() == months_from_contracts() and len(month_stats()) == 2
