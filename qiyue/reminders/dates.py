"""The dates reminders are about, read with indexed date-range queries: contract expiries and notice
deadlines, installments still owed, open obligations and approval tasks still waiting. The scan reads
them unscoped for a window of days; the calendar page, the feed and the dashboard read them within
what a user may see (`scoped`)."""

import datetime
import functools
from dataclasses import dataclass, field

from django.db.models import F, Max, Q
from django.db.models.functions import ExtractDay
from django.urls import reverse
from django.utils import timezone

from qiyue.contracts.models import Contract, Status
from qiyue.core.money import quantize_money
from qiyue.finance.models import Installment, InstallmentStatus, Obligation, ObligationStatus
from qiyue.workflow.models import ApprovalTask, TaskStatus

from .models import Subject

# Expiry and notice deadlines matter while a contract runs; money and obligations once it is signed.
RUNNING = (Status.SIGNED, Status.ACTIVE)
SIGNED = (Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED, Status.TERMINATED)


@dataclass
class DateEntry:
    subject: str
    object_type: str
    object_id: int
    date: datetime.date
    contract_id: int
    number: str
    title: str
    owner_id: int | None
    team_id: int | None
    responsible_id: int | None
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return contract_path(self.contract_id) + ANCHORS.get(self.subject, "")

    @property
    def amount(self) -> str:
        """What an installment still owes, with its currency (1,234.50 CNY; the grouping of both languages)."""
        if "owed" not in self.extra:
            return ""
        return f"{quantize_money(self.extra['owed'], self.extra['currency']):,} {self.extra['currency']}"


ANCHORS = {Subject.INSTALLMENT_DUE: "#money", Subject.OBLIGATION_DUE: "#execution",
           Subject.APPROVAL_WAITING: "#approval"}


@functools.cache
def _contract_path_pattern() -> str:
    return reverse("contracts:detail", args=[987654321]).replace("987654321", "{}")


def contract_path(contract_id: int) -> str:
    """The contract page's path (reversed once: a feed of thousands of dates reverses no URL each)."""
    return _contract_path_pattern().format(contract_id)


def _contracts(scope: Q | None):
    qs = Contract.objects.live().order_by()
    return qs.filter(scope) if scope is not None else qs


def expiries(start, end, *, scope: Q | None = None, limit: int | None = None) -> list[DateEntry]:
    rows = (_contracts(scope).filter(status__in=RUNNING, expiry_date__gte=start, expiry_date__lte=end)
            .order_by("expiry_date", "pk")
            .values_list("pk", "number", "title", "owner_id", "team_id", "expiry_date", "auto_renewal"))
    rows = rows[:limit] if limit else rows
    return [DateEntry(Subject.CONTRACT_EXPIRY, "contract", pk, day, pk, number, title, owner, team, owner,
                      {"auto_renewal": auto})
            for pk, number, title, owner, team, day, auto in rows]


def longest_notice() -> int:
    """The longest notice period of any contract (0: none has one), from the end of an index."""
    return Contract.objects.filter(notice_period_days__gt=0).order_by().aggregate(n=Max("notice_period_days"))["n"] or 0


def notice_deadlines(start, end, *, scope: Q | None = None, limit: int | None = None) -> list[DateEntry]:
    """Contracts with a notice period whose deadline (expiry minus the notice period) falls in
    [start, end]: read through the expiry index between start and end plus the longest notice period."""
    base = _contracts(scope).filter(status__in=RUNNING, notice_period_days__gt=0)
    longest = longest_notice()
    if not longest:
        return []
    rows = (base.filter(expiry_date__gte=start, expiry_date__lte=end + datetime.timedelta(days=longest))
            .values_list("pk", "number", "title", "owner_id", "team_id", "expiry_date", "notice_period_days",
                         "auto_renewal"))
    entries = []
    for pk, number, title, owner, team, expiry, notice, auto in rows.iterator(chunk_size=2000):
        deadline = expiry - datetime.timedelta(days=notice)
        if start <= deadline <= end:
            entries.append(DateEntry(Subject.NOTICE_DEADLINE, "contract", pk, deadline, pk, number, title, owner,
                                     team, owner, {"expiry": expiry, "auto_renewal": auto}))
    entries.sort(key=lambda e: (e.date, e.object_id))
    return entries[:limit] if limit else entries


def installments(start, end, *, scope: Q | None = None, limit: int | None = None) -> list[DateEntry]:
    qs = (Installment.objects.order_by().filter(
        status__in=(InstallmentStatus.OPEN, InstallmentStatus.CLAIM), received__lt=F("amount"),
        due_date__gte=start, due_date__lte=end, contract__deleted_at__isnull=True, contract__status__in=SIGNED))
    if scope is not None:
        qs = qs.filter(scope)
    rows = (qs.order_by("due_date", "pk")
            .values_list("pk", "due_date", "position", "amount", "received", "currency", "contract_id",
                         "contract__number", "contract__title", "owner_id", "team_id"))
    rows = rows[:limit] if limit else rows
    return [DateEntry(Subject.INSTALLMENT_DUE, "installment", pk, day, contract, number, title, owner, team, owner,
                      {"position": position, "owed": amount - received, "currency": currency})
            for pk, day, position, amount, received, currency, contract, number, title, owner, team in rows]


def obligations(start, end, *, scope: Q | None = None, limit: int | None = None) -> list[DateEntry]:
    qs = Obligation.objects.order_by().filter(
        status=ObligationStatus.OPEN, due_date__gte=start, due_date__lte=end, contract__deleted_at__isnull=True,
        contract__status__in=SIGNED)
    if scope is not None:
        qs = qs.filter(scope)
    rows = (qs.order_by("due_date", "pk")
            .values_list("pk", "due_date", "description", "party", "owner_id", "contract_id", "contract__number",
                         "contract__title", "contract__owner_id", "contract__team_id"))
    rows = rows[:limit] if limit else rows
    return [DateEntry(Subject.OBLIGATION_DUE, "obligation", pk, day, contract, number, title, c_owner, team,
                      owner or c_owner, {"description": description, "party": party})
            for pk, day, description, party, owner, contract, number, title, c_owner, team in rows]


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def approval_tasks(start, end, *, scope: Q | None = None, limit: int | None = None) -> list[DateEntry]:
    """Open approval tasks created on the days [start, end] (local days)."""
    qs = ApprovalTask.objects.order_by().filter(
        status=TaskStatus.OPEN, created_at__gte=_local_midnight(start),
        created_at__lt=_local_midnight(end + datetime.timedelta(days=1)))
    if scope is not None:
        qs = qs.filter(scope)
    rows = (qs.order_by("created_at", "pk")
            .values_list("pk", "created_at", "assignee_id", "assignee__display_name", "assignee__username",
                         "contract_id", "contract__number", "contract__title", "contract__owner_id",
                         "contract__team_id"))
    rows = rows[:limit] if limit else rows
    return [DateEntry(Subject.APPROVAL_WAITING, "task", pk, timezone.localdate(created), contract, number, title,
                      owner, team, assignee, {"approver": display or username})
            for pk, created, assignee, display, username, contract, number, title, owner, team in rows]


def _months_between(start: datetime.date, day: datetime.date) -> int:
    return (day.year - start.year) * 12 + day.month - start.month


def reviews(start, end, *, scope: Q | None = None, limit: int | None = None) -> list[DateEntry]:
    """The periodic reviews falling in [start, end]: a running contract of a type reviewed every m months
    is due m, 2m, 3m … months after its effective date (the 31st in a shorter month: its last day). Read
    by the days of the month such dates fall on, so only the contracts of reviewed types that can fall due
    in the window are looked at."""
    from dateutil.relativedelta import relativedelta

    from .models import TypeSchedule

    intervals = dict(TypeSchedule.objects.filter(review_every_months__isnull=False)
                     .values_list("contract_type_id", "review_every_months"))
    if not intervals or end < start:
        return []
    days: set[int] = set()
    day = start
    while day <= end and len(days) < 31:
        days.add(day.day)
        if (day + datetime.timedelta(days=1)).day == 1:  # a month's last day: also the longer months' ends
            days.update(range(day.day + 1, 32))
        day += datetime.timedelta(days=1)
    rows = (_contracts(scope).filter(status__in=RUNNING, contract_type_id__in=intervals, effective_date__lt=end)
            .annotate(effective_day=ExtractDay("effective_date")).filter(effective_day__in=days)
            .values_list("pk", "number", "title", "owner_id", "team_id", "effective_date", "contract_type_id"))
    entries = []
    for pk, number, title, owner, team, effective, kind in rows.iterator(chunk_size=2000):
        every = intervals[kind]
        k = max(1, _months_between(effective, start) // every)
        while True:
            due = effective + relativedelta(months=k * every)
            if due > end:
                break
            if due >= start:
                entries.append(DateEntry(Subject.REVIEW_DUE, "contract", pk, due, pk, number, title, owner, team,
                                         owner, {"every": every}))
            k += 1
    entries.sort(key=lambda e: (e.date, e.object_id))
    return entries[:limit] if limit else entries


SOURCES = {
    Subject.CONTRACT_EXPIRY: expiries,
    Subject.NOTICE_DEADLINE: notice_deadlines,
    Subject.INSTALLMENT_DUE: installments,
    Subject.OBLIGATION_DUE: obligations,
    Subject.APPROVAL_WAITING: approval_tasks,
    Subject.REVIEW_DUE: reviews,
}
# The subjects a calendar shows (an approval task's wait is not a date in anyone's diary).
CALENDAR_SUBJECTS = (Subject.CONTRACT_EXPIRY, Subject.NOTICE_DEADLINE, Subject.INSTALLMENT_DUE,
                     Subject.OBLIGATION_DUE, Subject.REVIEW_DUE)
