"""A customer's credit indicator (R10.3, first part) from its payment behaviour: how long its oldest unpaid
installment is overdue, and the share of its installments paid on time. The finance app keeps the facts
on the customer row (`credit_overdue_since`, `credit_paid`, `credit_paid_on_time`) in the transaction of
each money change; the level is derived from them and the day, here, never stored stale.

- risk: overdue more than 90 days, or fewer than half of at least 3 installments paid on time;
- watch: overdue at all, or fewer than 80 % of at least 3 installments paid on time;
- none: no installment paid yet and nothing overdue (no history to judge);
- good: the rest.
"""

import datetime
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils.translation import pgettext_lazy

LEVELS = (("good", pgettext_lazy("credit", "Good")), ("watch", pgettext_lazy("credit", "Watch")),
          ("risk", pgettext_lazy("credit", "Risk")), ("none", pgettext_lazy("credit", "No history")))
RISK_DAYS = 90
MIN_HISTORY = 3


@dataclass(frozen=True)
class Credit:
    level: str
    days_overdue: int
    paid: int
    paid_on_time: int

    @property
    def on_time_share(self) -> int | None:
        """Paid on time of the installments paid, in whole percent (None without any)."""
        return int(self.paid_on_time * 100 / self.paid) if self.paid else None

    @property
    def label(self):
        return dict(LEVELS)[self.level]


def credit(overdue_since: datetime.date | None, paid: int, paid_on_time: int, today: datetime.date) -> Credit:
    days = (today - overdue_since).days if overdue_since is not None and overdue_since < today else 0
    history = paid >= MIN_HISTORY
    if days > RISK_DAYS or (history and paid_on_time * 2 < paid):
        level = "risk"
    elif days > 0 or (history and paid_on_time * 5 < paid * 4):
        level = "watch"
    elif paid == 0:
        level = "none"
    else:
        level = "good"
    return Credit(level, days, paid, paid_on_time)


def of(customer, today: datetime.date) -> Credit:
    return credit(customer.credit_overdue_since, customer.credit_paid, customer.credit_paid_on_time, today)


def filter_level(queryset: QuerySet, level: str, today: datetime.date) -> QuerySet:
    """The customers of `queryset` whose level is `level` today (the rules above, in SQL)."""
    rows = queryset.alias(_half=F("credit_paid_on_time") * 2, _four_fifths=F("credit_paid_on_time") * 5,
                          _paid_x4=F("credit_paid") * 4)
    history = Q(credit_paid__gte=MIN_HISTORY)
    risk = Q(credit_overdue_since__lt=today - datetime.timedelta(days=RISK_DAYS)) | (
        history & Q(_half__lt=F("credit_paid")))
    watch = Q(credit_overdue_since__lt=today) | (history & Q(_four_fifths__lt=F("_paid_x4")))
    if level == "risk":
        return rows.filter(risk)
    if level == "watch":
        return rows.filter(watch).exclude(risk)
    if level == "none":
        return rows.filter(credit_paid=0).exclude(risk).exclude(watch)
    if level == "good":
        return rows.filter(credit_paid__gt=0).exclude(risk).exclude(watch)
    return queryset
