"""Dashboard numbers (R9.1 scoping: every count goes through `visible`).

`dashboard_summary` runs a fixed number of queries whatever the data size: one per panel.
"""

import datetime

from django.db.models import Count, Q, Sum, prefetch_related_objects
from django.utils import timezone

from qiyue.contracts.models import Status
from qiyue.contracts.policies import is_reviewer
from qiyue.contracts.selectors import (
    LIVE_STATUSES,
    contract_amount_totals,
    contract_queryset,
    contract_stats,
    contract_status_counts,
    live_contracts,
)
from qiyue.core.permissions import visible

EXPIRY_WINDOWS = (30, 60, 90)
LIST_LIMIT = 8


def _expiring_q(today: datetime.date, days: int) -> Q:
    return Q(status__in=LIVE_STATUSES, expiry_date__gte=today,
             expiry_date__lte=today + datetime.timedelta(days=days))


def _soonest_expiring(rows, today: datetime.date, days: int) -> list:
    """The first LIST_LIMIT live contracts of `rows` expiring within `days`, soonest first. One
    query per live status: with one status the (status, expiry_date) index yields rows in expiry
    order and the LIMIT stops early; with `status IN (...)` SQLite reads and sorts the whole window
    (27,000 contracts at a million) to find the first eight."""
    found = []
    for status in LIVE_STATUSES:
        found += rows.filter(status=status, expiry_date__gte=today,
                             expiry_date__lte=today + datetime.timedelta(days=days)).order_by(
            "expiry_date", "id")[:LIST_LIMIT]
    found = sorted(found, key=lambda contract: (contract.expiry_date, contract.pk))[:LIST_LIMIT]
    prefetch_related_objects(found, "owner")
    return found


def dashboard_summary(*, user, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    base = visible(user, live_contracts())
    # The dashboard's short lists name the owner but never the team. The owner is prefetched, not
    # joined: a join lets SQLite's planner start from the users table and sort every live contract
    # of every user (100 ms at a million contracts) instead of walking the expiry index.
    rows = contract_queryset(user=user).prefetch_related(None).prefetch_related("owner")
    unprefetched = rows.prefetch_related(None)

    status_counts = contract_status_counts(user=user)
    by_status = [{"status": value, "label": label, "count": status_counts.get(value, 0)}
                 for value, label in Status.choices]

    # One query for the expiry buckets and the "my open items" counts.
    approver = is_reviewer(user)
    # COUNT(expiry_date) (never null inside the window), not COUNT(id): PostgreSQL's index holds no
    # id, and this way the expiry index answers alone.
    aggregates = {f"expiring_{d}": Count("expiry_date", filter=_expiring_q(today, d)) for d in EXPIRY_WINDOWS}
    aggregates["my_expiring"] = Count("expiry_date", filter=Q(owner_id=user.pk) & _expiring_q(today, 30))
    counts = base.filter(_expiring_q(today, max(EXPIRY_WINDOWS))).aggregate(**aggregates)
    # Counts by status come from the maintained ContractStat rows, not from scanning contracts.
    counts["my_drafts"] = (contract_stats(user=user).filter(owner_id=user.pk, status=Status.DRAFT)
                           .aggregate(n=Sum("count"))["n"] or 0)

    expiring_soon = _soonest_expiring(unprefetched, today, max(EXPIRY_WINDOWS))
    for contract in expiring_soon:
        contract.days_left = (contract.expiry_date - today).days

    my_drafts = list(rows.filter(owner_id=user.pk, status=Status.DRAFT).order_by("-updated_at", "-id")[:LIST_LIMIT])
    my_expiring = _soonest_expiring(unprefetched.filter(owner_id=user.pk), today, 30)

    return {
        "today": today,
        "by_status": by_status,
        "total": sum(status_counts.values()),
        "expiring": [{"days": d, "count": counts[f"expiring_{d}"]} for d in EXPIRY_WINDOWS],
        "expiring_soon": expiring_soon,
        "totals": contract_amount_totals(user=user),
        "may_approve": approver,
        "my_drafts": my_drafts,
        "my_drafts_count": counts["my_drafts"],
        "my_drafts_more": counts["my_drafts"] - len(my_drafts),
        "my_expiring": my_expiring,
        "my_expiring_count": counts["my_expiring"],
        "my_expiring_more": counts["my_expiring"] - len(my_expiring),
    }
