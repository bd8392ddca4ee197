from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from qiyue.core.permissions import visible
from qiyue.core.text import normalize_company_name

from .models import Communication, Contact, Customer


def customer_duplicates(*, name: str, exclude_pk: int | None = None) -> list[Customer]:
    key = normalize_company_name(name)
    if not key:
        return []
    qs = Customer.objects.filter(name_normalized=key)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs[:5])


def customer_list(*, user, filters: dict | None = None) -> QuerySet:
    from .filters import CustomerFilter

    qs = visible(user, Customer.objects.select_related("owner", "team"))
    return CustomerFilter(filters or {}, queryset=qs, request=None).qs


def customer_get(*, user, pk) -> Customer:
    """The customer if `user` may see it, else 404 (never its data)."""
    return get_object_or_404(visible(user, Customer.objects.select_related("owner", "team")), pk=pk)


def customer_contract_summary(*, customer: Customer) -> dict:
    from qiyue.contracts.models import Contract, Status

    live = Q(status__in=[Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED, Status.TERMINATED])
    rows = (Contract.objects.filter(customer=customer)
            .values("currency")
            .annotate(count=Count("id"), total=Sum("amount"), signed_total=Sum("amount", filter=live))
            .order_by("currency"))
    return {"by_currency": list(rows), "count": sum(r["count"] for r in rows)}


def contact_list(*, user) -> QuerySet:
    return visible(user, Contact.objects.select_related("customer"), via="customer__")


def communication_list(*, user) -> QuerySet:
    return visible(user, Communication.objects.select_related("customer", "contract", "author"), via="customer__")
