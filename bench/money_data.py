"""Money for the benchmark (issue 12): payment plans, installments, payments received and their
allocations on every signed contract, about 3 installments and 2 payments per contract in all (3,000,000
and 2,000,000 at a million contracts), bulk-inserted; then the totals the application keeps on each
contract (`qiyue.finance.totals.computed`) and each customer (`customer_computed`), computed here from the
rows as they are made and written with bulk UPDATEs. And the timing of recording one payment.

Like a real book of receivables: installments due from the signing date on, through the contract's term
and up to a year ahead; most of those long past due are paid (a payment a few days early to a few months
late, paid oldest first as the service allocates), some customers stopped paying (the over-90-days
bucket), about half of what fell due in the last 90 days still owed, some installments paid in two
parts, and a terminated contract's unpaid installments kept as claims or cancelled.
"""

import datetime
import random
import statistics
import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from .fastload import bulk_insert, speed_up_sqlite

CHUNK = 20_000  # contracts generated, inserted and updated at a time
PER_CONTRACT = 3  # installments per contract of the whole data set (only signed ones have a plan)
OWING = ("signed", "active", "completed", "expired", "terminated")
CONDITIONS = {"first": ["签约后支付预付款", "合同签订后10个工作日内", ""],
              "middle": ["交付后30日内", "按进度付款", "到货验收后", ""],
              "last": ["终验合格后支付", "质保期满后支付质保金", "服务期满后结清", ""]}
# Payment methods as a finance department sees them: mostly bank transfers.
METHODS = (["bank_transfer"] * 16 + ["acceptance_bill"] * 2 + ["online", "cheque", "cash", "other"])
CANCEL_REASON = "随合同解除而终止。"  # plan.on_contract_transitioned's reason, as a Chinese user sees it


def finance_user():
    """bench_finance (role finance, the bench's password), created when missing."""
    from qiyue.accounts.models import User

    hashed = User.objects.get(username="bench_legal").password
    return User.objects.get_or_create(username="bench_finance", defaults={
        "role": "finance", "password": hashed, "display_name": "bench_finance"})[0]


def ensure_money(*, contracts: int) -> tuple[int, int, float]:
    """(installments, payments, seconds to add them): added once per data set, kept when it is reused."""
    from qiyue.contracts.models import Contract
    from qiyue.contracts.stat_triggers import drop_stat_triggers, install_stat_triggers
    from qiyue.finance.models import Installment, Payment

    existing = Installment.objects.count()
    if existing:
        return existing, Payment.objects.count(), 0.0
    start = time.perf_counter()
    finance = finance_user()
    speed_up_sqlite()
    owing = Contract.objects.filter(deleted_at__isnull=True, status__in=OWING, amount__gt=0)
    owing_count = owing.count()
    if not owing_count:
        return 0, 0, time.perf_counter() - start
    mean = PER_CONTRACT * contracts / owing_count  # installments per signed contract (3.4 for the generator's mix)
    maker = _Maker(finance.pk, mean)
    with transaction.atomic():
        # The contract table's statistic triggers (counts, months, receivables) would fire per row
        # updated: drop them, and install them afterwards, which rebuilds every statistic from the rows.
        drop_stat_triggers()
        last = 0
        fields = ("pk", "customer_id", "owner_id", "status", "amount", "currency", "signing_date", "effective_date",
                  "expiry_date", "created_at", "status_changed_at", "team_id")
        while True:
            chunk = list(owing.filter(pk__gt=last).order_by("pk").values_list(*fields)[:CHUNK])
            if not chunk:
                break
            maker.load(chunk)
            last = chunk[-1][0]
        maker.write_customers()
        install_stat_triggers()
    _analyze()
    return maker.installments, maker.payments, time.perf_counter() - start


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _text(cents: int) -> str:
    """str() of the Decimal the database gives back (two decimals), as totals.computed writes it."""
    return f"{cents // 100}.{cents % 100:02d}"


def _split(rng: random.Random, cents: int, parts: int) -> list[int]:
    """`cents` in `parts` positive parts adding up to it exactly: equal (the rounding to the last one), or
    by shares such as 30/60/10."""
    if parts == 1:
        return [cents]
    if rng.random() < 0.5:
        each = cents // parts
        return [each] * (parts - 1) + [cents - each * (parts - 1)]
    weights = [rng.choice((1, 2, 3, 3, 4, 6)) for _ in range(parts)]
    whole = sum(weights)
    amounts = [cents * w // whole for w in weights[:-1]]
    return amounts + [cents - sum(amounts)]


class _Maker:
    """Makes the rows of contract after contract, chunk by chunk, keeping the customers' payment facts."""

    def __init__(self, finance_id: int, mean: float):
        from qiyue.customers.models import Customer

        self.rng = random.Random(12)
        self.finance_id = finance_id
        self.mean = mean
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.names = dict(Customer.objects.values_list("id", "name"))
        self.installments = self.payments = 0
        # customer id → [oldest unpaid due date, installments paid, paid on time]
        self.customers: dict[int, list] = {}
        self.reference = 0

    def load(self, chunk: list[tuple]) -> None:
        from qiyue.finance.models import Installment, Payment, PaymentAllocation, PaymentPlan

        installment_rows, payment_rows, plans, updates = [], [], [], []
        allocations = []  # per payment: [(index of the installment row, cents)]
        for row in chunk:
            first = len(installment_rows)
            self._contract(row, installment_rows, payment_rows, allocations, updates)
            pk, _customer, owner, *_rest, created, _changed, _team = row
            plans.append({"contract": pk, "version": 2, "updated_by": owner,
                          "updated_at": min(created + datetime.timedelta(days=1), self.now)})
            assert len(installment_rows) > first
        bulk_insert(PaymentPlan, plans)
        installment_ids = self._insert(Installment, installment_rows)
        payment_ids = self._insert(Payment, payment_rows)
        bulk_insert(PaymentAllocation, (
            {"payment": payment_ids[n], "installment": installment_ids[index], "amount": _money(cents)}
            for n, parts in enumerate(allocations) for index, cents in parts))
        self.installments += len(installment_rows)
        self.payments += len(payment_rows)
        from qiyue.contracts.models import Contract

        schedule_field = Contract._meta.get_field("unpaid_schedule")
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE contracts_contract SET received_amount = %s, outstanding_amount = %s, unpaid_since = %s, "
                "unpaid_schedule = %s WHERE id = %s",
                [(received, outstanding, since, schedule_field.get_db_prep_save(schedule, connection), pk)
                 for pk, received, outstanding, since, schedule in updates])

    @staticmethod
    def _insert(model, rows: list[dict]) -> list[int]:
        """Insert `rows`, then their ids in the same order (ids grow in the order of insertion)."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            before = cursor.fetchone()[0]
            bulk_insert(model, rows)
            cursor.execute(f"SELECT id, contract_id FROM {table} WHERE id > %s ORDER BY id", [before])  # noqa: S608
            found = cursor.fetchall()
        if [contract for _id, contract in found] != [row["contract"] for row in rows]:
            raise RuntimeError(f"{table}: the ids read back are not in the order of insertion")
        return [pk for pk, _contract in found]

    def _contract(self, row, installment_rows, payment_rows, allocations, updates) -> None:
        rng, today = self.rng, self.today
        (pk, customer, owner, status, amount, currency, signing, effective, expiry, _created, _changed, team) = row
        day = datetime.timedelta(days=1)
        signed = signing or effective
        count = max(1, int(self.mean + rng.uniform(-1.5, 1.5) + 0.5))
        amounts = _split(rng, int(amount * 100), count)
        # Due dates from the signing date through the term; running contracts up to a year ahead.
        first_due = signed + rng.randint(10, 45) * day
        end = expiry or signed + 730 * day
        if status in ("signed", "active"):
            end = min(max(end, today + rng.randint(30, 365) * day), today + 365 * day)
        else:
            end = min(end, today)
        span = max((end - first_due).days, 0)
        dues = sorted(first_due + (span * i // max(count - 1, 1) + rng.randint(-5, 5)) * day
                      for i in range(count))
        dues = [max(due, first_due) for due in dues]

        # How the customer pays: most a little early to a few weeks late, some slowly, a few stop paying.
        kind = rng.random()
        stops = kind < (0.03 if status == "completed" else 0.10)
        slow = not stops and kind < 0.22
        stop_at = rng.randrange(count) if stops else count
        # Money events in the order the service would allocate them (oldest installment first):
        # (received on, installment index, cents); a payment is the events of one day.
        events: list[tuple[datetime.date, int, int]] = []
        received = [0] * count
        paid_on: list[datetime.date | None] = [None] * count
        previous = signed
        for i, due in enumerate(dues):
            if i >= stop_at:
                break
            if slow:
                delay = rng.randint(20, 200)
            else:
                r = rng.random()
                delay = rng.randint(-20, 0) if r < 0.35 else rng.randint(1, 40) if r < 0.8 else rng.randint(41, 100)
            when = max(due + delay * day, previous)
            if when > today:
                # Not yet paid: sometimes a part of it already came in.
                low = max(previous, due - 30 * day)
                if low <= today and rng.random() < 0.3:
                    part = int(amounts[i] * rng.uniform(0.2, 0.8))
                    if 0 < part < amounts[i]:
                        events.append((low + rng.randint(0, (today - low).days) * day, i, part))
                        received[i] = part
                break
            split = rng.random() < 0.06 and amounts[i] > 1
            if split:  # paid in two parts
                low = max(previous, due - 60 * day)
                part = int(amounts[i] * rng.uniform(0.3, 0.7))
                if 0 < part < amounts[i]:
                    events.append((low + rng.randint(0, (when - low).days) * day, i, part))
                    received[i] = part
            elif events and events[-1][1] == i - 1 and paid_on[i - 1] is not None and rng.random() < 0.2:
                # The previous installment waited, and was paid with this one.
                events[-1] = (when, i - 1, events[-1][2])
                paid_on[i - 1] = when
            events.append((when, i, amounts[i] - received[i]))
            received[i] = amounts[i]
            paid_on[i] = when
            previous = when

        # A terminated contract's unpaid installments: kept as claims, or cancelled with it.
        cancel = status == "terminated" and rng.random() < 0.2
        states = [("cancelled" if cancel else "claim") if status == "terminated" and received[i] < amounts[i]
                  else "open" for i in range(count)]
        base = len(installment_rows)
        for i in range(count):
            where = "first" if i == 0 else "last" if i == count - 1 else "middle"
            installment_rows.append({
                "contract": pk, "owner_id": owner, "team_id": team,  # as the triggers would copy them
                "position": i + 1, "due_date": dues[i], "amount": _money(amounts[i]),
                "currency": currency, "condition": rng.choice(CONDITIONS[where]), "received": _money(received[i]),
                "paid_on": paid_on[i], "status": states[i],
                "status_reason": CANCEL_REASON if states[i] == "cancelled" else ""})

        total = 0
        n = 0
        while n < len(events):
            when = events[n][0]
            parts: dict[int, int] = {}  # installment row → cents (both parts of one paid the same day: one line)
            while n < len(events) and events[n][0] == when:
                parts[base + events[n][1]] = parts.get(base + events[n][1], 0) + events[n][2]
                n += 1
            cents = sum(parts.values())
            total += cents
            self.reference += 1
            method = rng.choice(METHODS)
            recorded = datetime.datetime.combine(when, datetime.time(10), datetime.UTC) + datetime.timedelta(
                minutes=rng.randint(0, 3 * 24 * 60))
            recorded = min(recorded, self.now)
            payment_rows.append({
                "contract": pk, "customer": customer, "received_on": when, "amount": _money(cents),
                "currency": currency, "method": method,
                "bank_reference": f"{when:%Y%m%d}{self.reference:010d}" if method == "bank_transfer" else "",
                "payer": self.names[customer] if rng.random() < 0.9 else "", "created_by": self.finance_id,
                "created_at": recorded, "updated_at": recorded})
            allocations.append(list(parts.items()))

        # The contract's totals (totals.computed) and the customer's payment facts (customer_computed).
        schedule = sorted([dues[i].isoformat(), _text(amounts[i] - received[i])] for i in range(count)
                          if states[i] != "cancelled" and received[i] < amounts[i])
        outstanding = sum(amounts[i] - received[i] for i in range(count) if states[i] != "cancelled")
        since = datetime.date.fromisoformat(schedule[0][0]) if schedule else None
        updates.append((pk, _money(total), _money(outstanding), since, schedule))
        facts = self.customers.setdefault(customer, [None, 0, 0])
        if since is not None and (facts[0] is None or since < facts[0]):
            facts[0] = since
        for i in range(count):
            if paid_on[i] is not None:
                facts[1] += 1
                facts[2] += paid_on[i] <= dues[i]

    def write_customers(self) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE customers_customer SET credit_overdue_since = %s, credit_paid = %s, credit_paid_on_time = %s "
                "WHERE id = %s", [(since, paid, on_time, pk) for pk, (since, paid, on_time) in self.customers.items()])


def _analyze() -> None:
    """Statistics of the tables written, for the planner (on PostgreSQL also the visibility map)."""
    tables = ["finance_paymentplan", "finance_installment", "finance_payment", "finance_paymentallocation",
              "contracts_contract", "customers_customer"]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{'VACUUM ANALYZE' if connection.vendor == 'postgresql' else 'ANALYZE'} {table}")


def aging_counts() -> dict[str, int]:
    """Installments still owed per aging bucket as of today (and paid, partly paid), for the bench's output."""
    from qiyue.finance import money
    from qiyue.finance.models import Installment

    today = timezone.localdate()
    counts = dict.fromkeys(("paid", "partly_paid", "cancelled", *money.AGING_BUCKETS), 0)
    for due, amount, got, status in Installment.objects.values_list("due_date", "amount", "received", "status").iterator(
            chunk_size=20_000):
        if status == "cancelled":
            counts["cancelled"] += 1
        elif got >= amount:
            counts["paid"] += 1
        else:
            counts[money.aging_bucket(due, today)] += 1
            counts["partly_paid"] += got > 0
    return counts


def _p95(samples: list[float]) -> float:
    samples = sorted(samples)
    return samples[max(0, int(len(samples) * 0.95) - 1)]


def time_payment(user, repeat: int) -> tuple[float, float]:
    """Recording a payment that pays one open installment in full (qiyue.finance.services.payment_record),
    as finance: each run rolled back, so every run pays the same installment. Returns (median, p95)."""
    from qiyue.finance.models import Installment
    from qiyue.finance.services import payment_record

    row = (Installment.objects.filter(status="open", received=0, contract__status="active",
                                      contract__deleted_at__isnull=True, due_date__lt=timezone.localdate())
           .select_related("contract").order_by("-contract_id").first())
    samples = []
    for n in range(repeat + 3):
        began = time.perf_counter()
        with transaction.atomic():
            payment_record(actor=user, contract=row.contract, allocations={row.pk: row.amount}, data={
                "received_on": timezone.localdate(), "amount": row.amount, "method": "bank_transfer",
                "bank_reference": "BENCH0001", "payer": "基准付款人"})
            transaction.set_rollback(True)
        if n >= 3:
            samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), _p95(samples)
