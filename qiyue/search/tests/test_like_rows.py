"""Every single character of a generated corpus, alone and with filters, finds exactly the rows SQL
LIKE finds over the same visible texts: customers, contracts and documents (long ones chunked), for a
user who sees all and for one team's user, in the index's current format and in the old one."""

import random

import pytest
from django.db.models import Q

from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.models import Customer
from qiyue.customers.tests.factories import make_customer
from qiyue.documents.models import Document
from qiyue.search.models import IndexState
from qiyue.search.rebuild import rebuild
from qiyue.search.selectors import search

from .corpus import WORDS, make_document, text_of

pytestmark = pytest.mark.django_db

STATUSES = ["draft", "active", "terminated"]
NATURES = ["sales", "service", "purchase"]


@pytest.fixture
def corpus(users):
    rng = random.Random(23)
    for n in range(18):
        owner = users["sales"] if n % 3 else users["sales_b"]
        customer = make_customer(owner, name=f"{rng.choice(WORDS)}{rng.choice(WORDS)}有限公司{n}")
        contract = make_contract(owner, customer=customer, title=text_of(rng, 12)[:40] or "合同",
                                 nature=NATURES[n % 3], description=text_of(rng, 60))
        Contract.objects.filter(pk=contract.pk).update(status=STATUSES[n % 3])
        make_document(owner=owner, contract=contract, title=f"附件{n}.docx",
                      text=text_of(rng, 9000 if n % 4 == 0 else 400))
    rebuild()


def like(user, char: str, filters: dict) -> set[tuple[str, int]]:
    """The rows whose searched text holds `char`, by SQL LIKE (Django's contains), that `user` may see."""
    from qiyue.core.permissions import visible

    contracts = visible(user, Contract.objects.live())
    status, nature = filters.get("status"), filters.get("nature")
    if status:
        contracts = contracts.filter(status__in=status)
    if nature:
        contracts = contracts.filter(nature__in=nature)
    text = (Q(number__contains=char) | Q(title__contains=char) | Q(customer__name__contains=char)
            | Q(our_entity__contains=char) | Q(counterparty_signatory__contains=char) | Q(tags__contains=char)
            | Q(description__contains=char))
    rows = {("contract", pk) for pk in contracts.filter(text).values_list("pk", flat=True)}
    documents = Document.objects.live().filter(contract__in=contracts).filter(
        Q(title__contains=char) | Q(current_version__text__text__contains=char))
    rows |= {("document", pk) for pk in documents.values_list("pk", flat=True)}
    if not status and not nature:
        customers = visible(user, Customer.objects.all()).filter(
            Q(name__contains=char) | Q(credit_code__contains=char) | Q(tags__contains=char)
            | Q(address__contains=char))
        rows |= {("customer", pk) for pk in customers.values_list("pk", flat=True)}
    return rows


def found(user, char: str, filters: dict) -> set[tuple[str, int]]:
    result = search(user=user, q=char, filters=filters, limit=200)
    assert not result.count_capped and result.count == len(result.hits), char
    return {(hit.kind, hit.object.pk) for hit in result.hits}


CHARS = sorted({char for word in WORDS for char in word})
FILTERS = [{}, {"status": ["active"]}, {"nature": ["service", "sales"]}, {"status": ["draft"], "nature": ["sales"]}]


@pytest.mark.parametrize("fmt", [2, 1])
def test_single_characters_and_filters_find_the_rows_like_finds(corpus, users, fmt):
    if fmt == 1:
        # The old format (no character tokens): one character is searched as a prefix.
        IndexState.objects.filter(pk=1).update(format=1)
    checked = 0
    for role in ("admin", "sales_b"):
        user = users[role]
        for filters in FILTERS:
            for char in CHARS:
                expected = like(user, char, filters)
                assert found(user, char, filters) == expected, (role, char, filters)
                checked += bool(expected)
    assert checked > 200  # most characters are somewhere in every slice
