"""What apps above customers add to the customer page (the customer 360 view), registered from their
AppConfig.ready(): the customers app shows them without importing those apps.

- a section: a function (user, customer) -> template context for customers/detail.html
  (the contracts app adds the customer's contracts and their totals);
- the contracts a communication record may be linked to: a function (user, customer) -> queryset.
"""

from collections.abc import Callable

from django.db.models import QuerySet

_sections: list[Callable[..., dict]] = []
_linkable_contracts: list[Callable[..., QuerySet]] = []


def register_customer_section(function: Callable[..., dict]) -> Callable[..., dict]:
    if function not in _sections:
        _sections.append(function)
    return function


def register_linkable_contracts(function: Callable[..., QuerySet]) -> Callable[..., QuerySet]:
    _linkable_contracts[:] = [function]
    return function


def customer_sections(*, user, customer) -> dict:
    context: dict = {}
    for section in _sections:
        context.update(section(user=user, customer=customer))
    return context


def linkable_contracts(*, user, customer) -> QuerySet:
    """The contracts a communication of `customer` may name (none until an app registers them)."""
    from .models import Communication

    if not _linkable_contracts:
        return Communication._meta.get_field("contract").related_model.objects.none()
    return _linkable_contracts[0](user=user, customer=customer)
