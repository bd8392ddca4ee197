from django.db.models import QuerySet

from qiyue.core import tags as tag_vocabulary
from qiyue.core.errors import filtered
from qiyue.core.permissions import visible
from qiyue.core.selectors import get_or_404, open_record
from qiyue.core.text import normalize_company_name

from . import events
from .models import Communication, Contact, Customer, CustomerTag


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
    return filtered(CustomerFilter(filters or {}, queryset=qs, request=None))


def customer_get(*, user, pk) -> Customer:
    """The customer if `user` may see it, else 404 (never its data)."""
    return get_or_404(visible(user, Customer.objects.select_related("owner", "team")), pk)


def customer_open(*, user, pk, may=None, queryset: QuerySet | None = None) -> Customer:
    """The customer opened for reading and its view logged (see qiyue.core.selectors.open_record);
    `queryset` defaults to what `user` may see."""
    if queryset is None:
        queryset = visible(user, Customer.objects.select_related("owner", "team"))
    return open_record(queryset, pk, user=user, may=may,
                       record_view=lambda customer: events.customer_viewed_event(actor=user, customer=customer))


def contact_list(*, user) -> QuerySet:
    return visible(user, Contact.objects.select_related("customer"), via="customer__")


def communication_list(*, user) -> QuerySet:
    return visible(user, Communication.objects.select_related("customer", "contract", "author"), via="customer__")


def customer_tags(*, user, also=()) -> list[str]:
    """The tags of the customers `user` may see, for the list's pick list (plus `also`)."""
    return tag_vocabulary.names(CustomerTag, user=user, also=also)
