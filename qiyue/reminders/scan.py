"""The reminder scan (R7): automatic status first, then every active rule over the days since it last ran.

Never twice: each reminder is a `ReminderSent` row with a unique key (rule, object, date, recipient).
A scan inserts the keys of a batch with its own run token, ignoring those that exist, then creates
notifications only for the rows that carry its token, in the same transaction. Two scans at once (the
worker and `qiyue reminders run`, or two workers) cannot both claim a key; a scan that dies mid-batch
rolls the batch back whole, so the next scan sends it.

Never missed: a rule remembers the last day it covered (`last_scanned_on`) and only moves it once its
whole window is done. The next scan covers every day after it up to today, so after days of downtime
each reminder that fell due in between is sent once (with the date it is about), not once per day
missed. A new rule starts with today.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qiyue.contracts.models import Contract, Status
from qiyue.contracts.services import contract_auto_renew, contract_transition
from qiyue.core.actors import SYSTEM
from qiyue.core.errors import ApplicationError
from qiyue.core.permissions import Scope
from qiyue.core.roles import Role
from qiyue.notifications.services import notify_now

from . import dates
from .models import ReminderRule, ReminderSent, TypeSchedule
from .notices import KINDS

# Reminders claimed and sent per transaction.
BATCH = 1000


@dataclass
class People:
    """The active users, read once per scan: who reports to whom, who manages which team, who has
    which role."""

    users: dict
    by_role: dict
    team_managers: dict

    @classmethod
    def load(cls) -> "People":
        users = {u.pk: u for u in get_user_model().objects.filter(is_active=True).only(
            "id", "username", "display_name", "email", "role", "team_id", "reports_to_id", "is_active", "language")}
        by_role, team_managers = defaultdict(set), defaultdict(set)
        for user in users.values():
            by_role[user.role].add(user.pk)
            if user.role == Role.MANAGER and user.team_id:
                team_managers[user.team_id].add(user.pk)
        return cls(users=users, by_role=by_role, team_managers=team_managers)

    def managers_of(self, user_id) -> set[int]:
        user = self.users.get(user_id)
        if user is None:
            return set()
        if user.reports_to_id in self.users:
            return {user.reports_to_id}
        return self.team_managers.get(user.team_id, set()) - {user_id}

    def sees(self, user_id, entry: dates.DateEntry) -> bool:
        return Scope.of(self.users[user_id]).allows(_Row(entry.owner_id, entry.team_id))


@dataclass
class _Row:
    owner_id: int | None
    team_id: int | None


def recipients(rule: ReminderRule, entry: dates.DateEntry, people: People, named: set[int]) -> list[int]:
    """Who `rule` tells about `entry`: the person responsible, their manager, the roles and users it
    names; everyone but the person responsible only if they may see the contract."""
    ids = set()
    if rule.to_manager and entry.responsible_id:
        ids |= people.managers_of(entry.responsible_id)
    for role in rule.role_choices:
        ids |= people.by_role.get(role, set())
    ids |= named
    ids = {pk for pk in ids if pk in people.users and people.sees(pk, entry)}
    if rule.to_responsible and entry.responsible_id in people.users:
        ids.add(entry.responsible_id)
    return sorted(ids)


def _params(entry: dates.DateEntry, today: datetime.date) -> dict:
    params = {"number": entry.number, "title": entry.title, "date": entry.date.isoformat(),
              "days": (entry.date - today).days}
    for name in ("position", "description", "approver"):
        if name in entry.extra:
            params[name] = entry.extra[name]
    if entry.amount:
        params["amount"] = entry.amount
    return params


def _send_batch(rule, batch, people, named, today, run) -> int:
    """Claim and send one batch of a rule's entries in one transaction; returns how many were sent."""
    planned = [(entry, pk) for entry in batch for pk in recipients(rule, entry, people, named)]
    if not planned:
        return 0
    with transaction.atomic():
        ReminderSent.objects.bulk_create(
            [ReminderSent(rule=rule, object_type=e.object_type, object_id=e.object_id, due_on=e.date, recipient_id=pk,
                          run=run) for e, pk in planned], ignore_conflicts=True)
        mine = set(ReminderSent.objects.filter(
            run=run, rule=rule, object_id__in={e.object_id for e, _pk in planned}).values_list(
            "object_type", "object_id", "due_on", "recipient_id"))
        send = [(e, pk) for e, pk in planned if (e.object_type, e.object_id, e.date, pk) in mine]
        kind = KINDS[rule.subject].key
        notify_now([(people.users[pk], kind, _params(e, today), e.url) for e, pk in send])
    return len(send)


def scan_rule(rule: ReminderRule, *, today: datetime.date, people: People, run: str) -> int:
    """Send `rule`'s reminders for the days after it last ran up to `today`; returns how many."""
    start = rule.last_scanned_on + datetime.timedelta(days=1) if rule.last_scanned_on else today
    if start > today:
        return 0
    offset = datetime.timedelta(days=rule.offset_days)
    entries = dates.SOURCES[rule.subject](start - offset, today - offset)
    named = set(rule.to_users.filter(is_active=True).values_list("pk", flat=True))
    sent = 0
    for i in range(0, len(entries), BATCH):
        sent += _send_batch(rule, entries[i:i + BATCH], people, named, today, run)
    # Moved only once the whole window is done, and never backwards (another scan may be ahead).
    ReminderRule.objects.filter(pk=rule.pk).exclude(last_scanned_on__gte=today).update(last_scanned_on=today)
    return sent


def _schedules() -> tuple[set, set]:
    """The contract types whose contracts do not expire, and those that do not renew, by themselves."""
    rows = list(TypeSchedule.objects.values_list("contract_type_id", "auto_expire", "auto_renew"))
    return {t for t, expire, _r in rows if not expire}, {t for t, _e, renew in rows if not renew}


def auto_status(*, today: datetime.date) -> dict[str, int]:
    """Active contracts past their expiry date become expired; those that renew automatically (and
    whose type lets them) roll their expiry forward by a term once their notice deadline has passed,
    as often as needed to catch up. The system actor's actions, audited; another scan doing the same
    at the same time is harmless (each change re-checks the locked row)."""
    no_expire, no_renew = _schedules()
    counts = {"renewed": 0, "expired": 0}
    live = Contract.objects.live().order_by().filter(status=Status.ACTIVE)
    longest = dates.longest_notice()
    renewing = (live.filter(auto_renewal=True, expiry_date__lt=today + datetime.timedelta(days=longest))
                .exclude(contract_type_id__in=no_renew).values_list("pk", "expiry_date", "notice_period_days"))
    for pk, expiry, notice in list(renewing):
        while expiry - datetime.timedelta(days=notice) < today:
            try:
                contract = contract_auto_renew(actor=SYSTEM, contract=Contract(pk=pk), expected_expiry=expiry,
                                               today=today)
            except ApplicationError:
                break  # deleted, ended or renewed by someone else meanwhile
            expiry = contract.expiry_date
            counts["renewed"] += 1
    expiring = live.filter(expiry_date__lt=today).exclude(contract_type_id__in=no_expire)
    expiring = expiring.exclude(Q(auto_renewal=True) & ~Q(contract_type_id__in=no_renew))
    for pk in list(expiring.values_list("pk", flat=True)):
        try:
            contract_transition(actor=SYSTEM, contract=Contract(pk=pk), name="expire")
        except ApplicationError:
            continue
        counts["expired"] += 1
    return counts


def run_scan(*, today: datetime.date | None = None) -> dict[str, int]:
    """The whole scan: automatic status, then each active rule. Returns counts for the log."""
    today = today or timezone.localdate()
    run = uuid.uuid4().hex
    result = auto_status(today=today)
    people = People.load()
    for rule in ReminderRule.objects.filter(active=True).order_by("position", "pk"):
        result[rule.key] = scan_rule(rule, today=today, people=people, run=run)
    return result
