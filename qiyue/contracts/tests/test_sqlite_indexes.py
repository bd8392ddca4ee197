"""The indexes only SQLite gets (qiyue/contracts/sqlite_indexes.py): in place after migrate, back after a
migration rebuilds the table, and read by the customer page's overdue sum without touching the table."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qiyue.contracts.apps import _reinstall_stat_triggers
from qiyue.contracts.models import Contract
from qiyue.contracts.selectors import customer_contract_summary
from qiyue.contracts.sqlite_indexes import SQLITE_INDEXES
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "sqlite", reason="the indexes only SQLite gets")]


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contracts_contract'")
        return {row[0] for row in cursor.fetchall()}


def test_they_are_there_and_come_back_after_a_rebuild():
    assert set(SQLITE_INDEXES) <= _indexes()
    with connection.cursor() as cursor:  # as a migration that rebuilds the table leaves it
        cursor.execute("DROP INDEX contract_customer_overdue")
    assert "contract_customer_overdue" not in _indexes()
    _reinstall_stat_triggers(sender=None, plan=[("a migration", False)])
    assert set(SQLITE_INDEXES) <= _indexes()


@pytest.mark.parametrize("role", ["legal", "manager", "sales"])
def test_the_overdue_sum_reads_only_the_index(users, role):
    customer = make_customer(users["sales"])
    late = make_contract(users["sales"], customer=customer, amount=Decimal("300.00"))
    make_contract(users["sales"], customer=customer, amount=Decimal("100.00"))
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    Contract.objects.filter(pk=late.pk).update(unpaid_since=yesterday, unpaid_schedule=[[yesterday, "120.50"]],
                                               outstanding_amount=Decimal("120.50"))
    with CaptureQueriesContext(connection) as queries:
        totals, _statuses = customer_contract_summary(user=users[role], customer_id=customer.pk)
    assert totals[0]["overdue"] == Decimal("120.50")
    [sql] = [q["sql"] for q in queries.captured_queries if '"unpaid_schedule"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " ".join(row[-1] for row in cursor.fetchall())
    assert "COVERING INDEX contract_customer_overdue" in plan, plan
