"""The reminders in `make bench`: the daily scan over the whole data set (its first run of the day and a
second one), and the calendar feed of a user with 5,000 dates.

The generated data predates the scan: its running contracts whose expiry (or notice deadline, for those
that renew automatically) passed long ago would all expire or renew on the first scan ever, a one-off
catch-up. `steady_state` does that catch-up in bulk, untimed, up to the day before yesterday, and starts
every rule the day before: the timed scan then does one ordinary day's work (yesterday's expiries and
renewals, today's reminders)."""

import datetime
import statistics
import time

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

FEED_DATES = 5_000


def steady_state(today: datetime.date) -> None:
    from qiyue.contracts.models import Contract, Status
    from qiyue.contracts.services import renewal_term_end
    from qiyue.notifications.models import Notification
    from qiyue.reminders.models import ReminderRule, ReminderSent

    yesterday = today - datetime.timedelta(days=1)
    with transaction.atomic():
        active = Contract.objects.live().filter(status=Status.ACTIVE)
        # Renewing contracts whose deadline passed before yesterday roll on (as the daily scans would have).
        rolled = []
        for contract in active.filter(auto_renewal=True, expiry_date__lt=yesterday + datetime.timedelta(days=200),
                                      expiry_date__gte=yesterday - datetime.timedelta(days=1)).only(
                "pk", "expiry_date", "effective_date", "notice_period_days"):
            term = (contract.effective_date, contract.expiry_date)  # generated contracts have no versions
            while contract.expiry_date - datetime.timedelta(days=contract.notice_period_days) < yesterday:
                contract.expiry_date = renewal_term_end(contract.expiry_date, *term)
            rolled.append(contract)
        Contract.objects.bulk_update(rolled, ["expiry_date"], batch_size=2000)
        active.filter(expiry_date__lt=yesterday).update(status=Status.EXPIRED)
        ReminderSent.objects.all().delete()
        Notification.objects.filter(kind__startswith="reminder.").delete()
        ReminderRule.objects.update(last_scanned_on=yesterday)


def time_scan(today: datetime.date | None = None) -> dict:
    """(first run of the day: seconds and what it did, second run: seconds). `today`: the day scanned
    (a later day than a previous bench run's has expiries of its own left to do)."""
    from qiyue.reminders.scan import run_scan

    today = today or timezone.localdate()
    steady_state(today)
    start = time.perf_counter()
    first = run_scan(today=today)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = run_scan(today=today)
    second_s = time.perf_counter() - start
    sent = sum(v for k, v in first.items() if k not in ("expired", "renewed"))
    return {"first_s": first_s, "second_s": second_s, "sent": sent, "expired": first["expired"],
            "renewed": first["renewed"], "second_sent": sum(v for k, v in second.items()
                                                            if k not in ("expired", "renewed"))}


def feed_user(today: datetime.date):
    """A sales user of the first manager's team who owns contracts with at least FEED_DATES dates in
    the feed's window (given them once, by moving running contracts with installments to them)."""
    from django.contrib.auth import get_user_model

    from qiyue.contracts.models import Contract
    from qiyue.finance.models import Installment
    from qiyue.reminders import feed, selectors

    users = get_user_model()
    manager = users.objects.filter(role="manager").order_by("pk").first()
    user, _created = users.objects.get_or_create(username="bench_feed", defaults={
        "role": "sales", "team_id": manager.team_id, "display_name": "Bench Feed"})
    start, end = today - feed.PAST, today + feed.AHEAD
    count = len(selectors.user_dates(user, start, end))
    if count < FEED_DATES:
        taken = set(Contract.objects.filter(owner=user).values_list("pk", flat=True))
        candidates = (Installment.objects.filter(due_date__gte=start, due_date__lte=end, received__lt=F("amount"),
                                                 contract__status__in=("signed", "active"),
                                                 contract__deleted_at__isnull=True)
                      .values("contract_id").annotate(n=Count("pk")).order_by("contract_id"))
        batch = []
        for row in candidates.iterator():
            if row["contract_id"] not in taken:
                batch.append(row["contract_id"])
            if len(batch) >= 500:
                Contract.objects.filter(pk__in=batch).update(owner=user)
                batch = []
                if len(selectors.user_dates(user, start, end)) >= FEED_DATES:
                    break
        if batch:
            Contract.objects.filter(pk__in=batch).update(owner=user)
    return user, len(selectors.user_dates(user, start, end))


def time_feed(client, repeat: int) -> tuple[float, float, int, int]:
    """(median ms, p95 ms, dates in it, bytes) of the feed's address, fetched as a calendar app does."""
    from qiyue.reminders.services import feed_reset

    today = timezone.localdate()
    user, dates = feed_user(today)
    feed = feed_reset(actor=user)
    url = f"/reminders/feed/{feed.token}.ics"
    size = len(client.get(url).content)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], dates, size
