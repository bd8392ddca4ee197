"""Archive facets: GROUP BY counts scoped to what each role sees, disjunctive, a fixed query count."""

import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from qiyue.archive import selectors
from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_delete, contract_transition
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db


def sign(contract, actor, day):
    for name in ("submit", "approve"):
        contract = contract_transition(actor=actor, contract=contract, name=name, via_workflow=name == "approve")
    return contract_transition(actor=actor, contract=contract, name="sign", signing_method="company_seal",
                               signing_date=day)


@pytest.fixture
def archive(users):
    own = make_contract(users["sales"], nature="lease", subject_matter="real_estate")
    team = make_contract(users["sales2"], customer=own.customer, nature="service")
    other = make_contract(users["sales_b"], nature="lease", signing_form="electronic")
    other = sign(other, users["admin"], datetime.date(2024, 3, 1))
    gone = make_contract(users["sales"], customer=own.customer, nature="licensing")
    contract_delete(actor=users["sales"], contract=gone, reason="录错")
    return {"own": own, "team": team, "other": other, "gone": gone}


def counts(user, params="", deleted=False) -> dict:
    facets = selectors.archive_facets(user=user, params=QueryDict(params), deleted=deleted)
    return {f.name: {v.value: v.count for v in f.values} for f in facets}


def test_admin_sees_every_live_contract(users, archive):
    c = counts(users["admin"])
    assert c["nature"] == {"lease": 2, "service": 1}
    assert c["status"] == {"draft": 2, "signed": 1}
    assert c["signing_form"] == {"written": 2, "electronic": 1}
    assert c["subject_matter"] == {"real_estate": 1, "movable": 2}
    assert c["signing_year"] == {"2024": 1, "none": 2}
    assert c["customer"] == {str(archive["own"].customer_id): 2, str(archive["other"].customer_id): 1}


@pytest.mark.parametrize("role,expected", [
    ("sales", {"lease": 1, "service": 1}), ("manager", {"lease": 1, "service": 1}),
    ("sales_b", {"lease": 1}), ("manager_b", {"lease": 1}),
    ("legal", {"lease": 2, "service": 1}), ("finance", {"lease": 2, "service": 1}),
    ("auditor", {"lease": 2, "service": 1}),
])
def test_counts_never_include_invisible_or_deleted_contracts(users, archive, role, expected):
    c = counts(users[role])
    assert c["nature"] == expected
    assert sum(c["status"].values()) == sum(expected.values())
    assert "licensing" not in c["nature"]


def test_counts_are_disjunctive(users, archive):
    c = counts(users["admin"], "nature=lease")
    # The nature facet ignores its own filter; the others count only leases.
    assert c["nature"] == {"lease": 2, "service": 1}
    assert c["status"] == {"draft": 1, "signed": 1}
    c = counts(users["admin"], "signing_year=2024")
    assert c["signing_year"] == {"2024": 1, "none": 2} and c["nature"] == {"lease": 1}


def test_signing_year_filter(users, archive):
    qs = selectors.archive_filter(user=users["admin"], params=QueryDict("signing_year=2024")).qs
    assert list(qs) == [archive["other"]]
    qs = selectors.archive_filter(user=users["admin"], params=QueryDict("signing_year=none")).qs
    assert set(qs) == {archive["own"], archive["team"]}
    assert not selectors.archive_filter(user=users["admin"], params=QueryDict("signing_year=abc")).is_valid()


def test_deleted_view_only_for_admin_and_auditor(users, archive):
    assert counts(users["admin"], deleted=True)["nature"] == {"licensing": 1}
    assert counts(users["auditor"], deleted=True)["nature"] == {"licensing": 1}
    for role in ("legal", "sales", "manager", "finance"):
        assert counts(users[role], deleted=True)["nature"] == {}
        assert not selectors.archive_queryset(user=users[role], deleted=True).exists()


def test_fixed_number_of_queries(users, archive):
    for _ in range(5):
        make_contract(users["sales"], nature="purchase")
    with CaptureQueriesContext(connection) as queries:
        selectors.archive_facets(user=users["admin"], params=QueryDict("status=draft"))
    # One GROUP BY per facet, and one for the customers' names.
    assert len(queries) == 7
    assert sum("GROUP BY" in q["sql"] for q in queries.captured_queries) == 6


def test_annotate_retention(users, archive):
    rows = list(Contract.objects.filter(pk__in=[archive["own"].pk, archive["other"].pk]).order_by("pk"))
    selectors.annotate_retention(rows)
    assert not rows[0].retention.applies and not rows[0].within_retention
    assert rows[1].retention.running and rows[1].within_retention
