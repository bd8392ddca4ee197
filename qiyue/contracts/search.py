"""The contract as a search kind (registered in apps.py): one entry per contract with its number,
title, customer name, parties, tags and description, keyed by owner, team, customer and the filter
values (status, nature, subject matter, signing form, dates, amount)."""

from collections.abc import Iterator
from types import SimpleNamespace

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qiyue.core.permissions import visible
from qiyue.core.search_kinds import Follow, Found, IndexRow, SearchKind

from .custom_fields import search_texts
from .models import Contract

KIND = "contract"
# Contract columns copied onto the contract's entries and those of its documents.
CONTRACT_FACETS = ("status", "nature", "subject_matter", "signing_form", "signing_date", "effective_date",
                   "expiry_date", "amount")
# The entry columns a contract sets: a change to one of them changes what its documents' entries hold.
CONTRACT_KEYS = (*CONTRACT_FACETS, "contract_id", "customer_id", "owner_id", "team_id")


def contract_keys(contract) -> dict:
    """The columns a contract's entries share with those of its documents."""
    values = {name: getattr(contract, name) for name in CONTRACT_FACETS}
    values.update(contract_id=contract.pk, customer_id=contract.customer_id, owner_id=contract.owner_id,
                  team_id=contract.team_id)
    return values


def contract_text(contract, customer_name: str, custom: str = "") -> str:
    parts = (contract.number, contract.title, customer_name, contract.our_entity,
             contract.counterparty_signatory, contract.tags.replace(",", "，"), contract.description, custom)
    return " · ".join(p for p in parts if p)


def contract_row(contract, customer_name: str, custom: str = "") -> IndexRow:
    return IndexRow(kind=KIND, object_id=contract.pk, title=f"{contract.number} {contract.title}"[:300],
                    text=contract_text(contract, customer_name, custom), **contract_keys(contract))


def contract_rows(ids: list[int]) -> list[IndexRow]:
    contracts = Contract.objects.filter(pk__in=ids).select_related("customer").select_for_update(of=("self",))
    custom = search_texts(ids)
    return [contract_row(c, c.customer.name, custom.get(c.pk, "")) for c in contracts if c.deleted_at is None]


def contract_stream(batch: int) -> Iterator:
    fields = ("id", "number", "title", "our_entity", "counterparty_signatory", "tags", "description",
              "customer_id", "owner_id", "team_id", "created_at", *CONTRACT_FACETS)
    qs = Contract.objects.live().values(*fields, customer_name=F("customer__name"))
    last = 0
    while rows := list(qs.filter(pk__gt=last).order_by("pk")[:batch]):
        custom = search_texts([row["id"] for row in rows])
        for row in rows:
            contract = SimpleNamespace(pk=row["id"], **row)
            yield contract.created_at, [contract_row(contract, contract.customer_name, custom.get(contract.pk, ""))]
        last = rows[-1]["id"]


def contracts_found(user, ids) -> dict[int, Found]:
    contracts = visible(user, Contract.objects.live().filter(pk__in=ids))
    return {c.pk: Found(c, f"{c.number} {c.title}", reverse("contracts:detail", args=[c.pk]))
            for c in contracts.only("id", "number", "title")}


def _contracts_of_customers(customer_ids: list[int]):
    return Contract.objects.filter(customer_id__in=customer_ids).values_list("pk", flat=True)


CONTRACT_KIND = SearchKind(
    name=KIND, label=_("Contract"), rows=contract_rows, stream=contract_stream, found=contracts_found,
    # The customer's name is part of a contract's text.
    follows={"customer": Follow(columns=("title",), ids=_contracts_of_customers)},
    badge="primary",
)
