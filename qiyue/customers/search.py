"""The customer as a search kind (registered in apps.py): one entry per customer with its name,
credit code, tags and address, keyed by owner and team."""

from collections.abc import Iterator
from types import SimpleNamespace

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qiyue.core.permissions import visible
from qiyue.core.search_kinds import Found, IndexRow, SearchKind

from .models import Customer

KIND = "customer"


def customer_text(customer) -> str:
    parts = (customer.name, customer.credit_code or "", customer.tags.replace(",", "，"), customer.address)
    return " · ".join(p for p in parts if p)


def customer_row(customer) -> IndexRow:
    return IndexRow(kind=KIND, object_id=customer.pk, customer_id=customer.pk, owner_id=customer.owner_id,
                    team_id=customer.team_id, title=customer.name[:300], text=customer_text(customer))


def customer_rows(ids: list[int]) -> list[IndexRow]:
    return [customer_row(c) for c in Customer.objects.select_for_update().filter(pk__in=ids)]


def customer_stream(batch: int) -> Iterator:
    qs = Customer.objects.values("id", "name", "credit_code", "tags", "address", "owner_id", "team_id", "created_at")
    last = 0
    while rows := list(qs.filter(pk__gt=last).order_by("pk")[:batch]):
        for row in rows:
            customer = SimpleNamespace(pk=row["id"], **row)
            yield customer.created_at, [customer_row(customer)]
        last = rows[-1]["id"]


def customers_found(user, ids) -> dict[int, Found]:
    customers = visible(user, Customer.objects.filter(pk__in=ids)).only("id", "name")
    return {c.pk: Found(c, c.name, reverse("customers:detail", args=[c.pk])) for c in customers}


CUSTOMER_KIND = SearchKind(name=KIND, label=_("Customer"), rows=customer_rows, stream=customer_stream,
                           found=customers_found, badge="success")
