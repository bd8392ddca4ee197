"""Retention of contract records (R8.2): pure date rules, no database access.

A contract that was never signed (draft, cancelled) is no record of a binding agreement: it has no
retention period. A signed contract is kept while it runs and for its nature's retention period
after it ends:

- completed or terminated: from the day of that status change;
- expired: from the expiry date (the status change when no expiry date was set).

The contract may be deleted (softly) from the day after `retention_until`.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from .models import Status

NEVER_SIGNED = frozenset({Status.DRAFT, Status.CANCELLED})
# Still in the approval workflow: return or cancel it before deleting.
IN_WORKFLOW = frozenset({Status.IN_REVIEW, Status.APPROVED})
RUNNING = frozenset({Status.SIGNED, Status.ACTIVE})
ENDED = frozenset({Status.COMPLETED, Status.TERMINATED, Status.EXPIRED})


@dataclass(frozen=True)
class Retention:
    applies: bool                       # False for contracts that were never signed
    running: bool = False               # signed or active: always within retention
    ended_on: datetime.date | None = None
    until: datetime.date | None = None  # last day of retention

    def within(self, today: datetime.date) -> bool:
        if not self.applies:
            return False
        return self.running or self.until is None or today <= self.until


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def ended_on(contract) -> datetime.date | None:
    changed = timezone.localdate(contract.status_changed_at) if contract.status_changed_at else None
    if contract.status == Status.EXPIRED:
        return contract.expiry_date or changed
    if contract.status in (Status.COMPLETED, Status.TERMINATED):
        return changed or contract.expiry_date
    return None


def retention(contract, years: int | None) -> Retention:
    """The retention of `contract` under a policy of `years` (None: no policy, keep for ever)."""
    if contract.status in NEVER_SIGNED or contract.status in IN_WORKFLOW:
        return Retention(applies=False)
    if contract.status in RUNNING:
        return Retention(applies=True, running=True)
    end = ended_on(contract)
    if end is None or years is None:
        # An ended contract with no known end date, or a nature without a policy: keep it.
        return Retention(applies=True, ended_on=end)
    return Retention(applies=True, ended_on=end, until=add_years(end, years))
