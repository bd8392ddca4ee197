"""Test data for reminders: running contracts with dates, through the real services."""

import datetime

from qiyue.contracts.services import contract_transition
from qiyue.finance.tests.factories import signed_contract


def running_contract(owner, *, active: bool = True, **data):
    """A signed (and by default active) contract of `owner` with the dates given."""
    data.setdefault("effective_date", datetime.date(2026, 1, 1))
    contract = signed_contract(owner, **data)
    if active:
        contract = contract_transition(actor=owner, contract=contract, name="activate", confirm_early=True)
    return contract


def only_rules(*keys):
    """Switch off every default rule but these."""
    from qiyue.reminders.models import ReminderRule

    ReminderRule.objects.exclude(key__in=keys).update(active=False)
