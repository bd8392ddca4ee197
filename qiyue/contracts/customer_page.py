"""The contracts section of the customer page (registered in apps.py; see qiyue.customers.extensions)."""

from . import policies
from .selectors import customer_contract_summary, customer_contracts

# The customer page lists the newest contracts; the full list is one click away.
PAGE_CONTRACTS = 20
# A communication can be linked to one of the customer's newest contracts (a select of thousands helps nobody).
LINKABLE_CONTRACTS = 200


def contracts_section(*, user, customer) -> dict:
    totals, status_counts = customer_contract_summary(user=user, customer_id=customer.pk)
    return {
        "contracts": list(customer_contracts(user=user, customer_id=customer.pk)[:PAGE_CONTRACTS]),
        "contract_count": sum(row["count"] for row in totals),
        "totals": totals,
        "status_counts": status_counts,
        "can_create_contract": policies.can_create_contract(user),
    }


def linkable_contracts(*, user, customer):
    contracts = customer_contracts(user=user, customer_id=customer.pk)
    return contracts.filter(pk__in=contracts.values("pk")[:LINKABLE_CONTRACTS])
