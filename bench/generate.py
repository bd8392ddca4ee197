"""A seeded benchmark data set: teams and users, customers, contracts, inserted in bulk
(bypassing services and the audit log, which a benchmark of reads does not need)."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from qiyue.accounts.models import Team, User
from qiyue.contracts.models import Contract, Nature, SigningForm, Status, SubjectMatter
from qiyue.contracts.stat_triggers import drop_stat_triggers, install_stat_triggers
from qiyue.core.text import normalize_company_name
from qiyue.customers.models import Customer

from .fastload import analyze, bulk_insert, speed_up_sqlite

CITIES = ["上海", "北京", "深圳", "杭州", "苏州", "成都", "武汉", "南京", "广州", "天津"]
WORDS = ["明德", "华信", "启航", "恒通", "中科", "远景", "瑞丰", "天成", "博远", "鼎盛", "新元", "海川"]
TRADES = ["精密机械", "电子科技", "信息技术", "物流", "医疗器械", "新能源", "建设工程", "食品"]
TITLES = ["设备采购合同", "技术服务合同", "软件许可协议", "厂房租赁合同", "年度框架协议", "运维服务合同",
          "原材料供货合同", "咨询服务协议", "合资经营合同", "专利许可协议"]
# Status mix of a company's book: most contracts have run their course or are running.
STATUS_WEIGHTS = {Status.DRAFT: 4, Status.IN_REVIEW: 2, Status.APPROVED: 1, Status.SIGNED: 3, Status.ACTIVE: 30,
                  Status.COMPLETED: 35, Status.EXPIRED: 15, Status.TERMINATED: 5, Status.CANCELLED: 5}
TEAMS = 20
PASSWORD = "bench-password-2026"


def generate(*, contracts: int, customers: int | None = None, seed: int = 7) -> dict:
    rng = random.Random(seed)
    customers = customers or max(10, contracts // 10)
    speed_up_sqlite()
    with transaction.atomic():
        teams = [Team.objects.create(name=f"销售{i + 1}部") for i in range(TEAMS)]
        hashed = make_password(PASSWORD)
        people = [User(username=f"{role}{i}", role=role, team=team, password=hashed, display_name=f"{role}{i}")
                  for i, team in enumerate(teams) for role in ("manager", "sales")]
        people += [User(username=f"sales{i}b", role="sales", team=teams[i % TEAMS], password=hashed)
                   for i in range(TEAMS * 3)]
        people.append(User(username="bench_legal", role="legal", password=hashed))
        User.objects.bulk_create(people)
        sellers = list(User.objects.filter(role__in=["manager", "sales"]).values_list("id", "team_id"))

        now = datetime.datetime.now(datetime.UTC)

        def customer_rows():
            for i in range(customers):
                owner_id, team_id = rng.choice(sellers)
                name = f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(TRADES)}{i}有限公司"
                yield {"name": name, "name_normalized": normalize_company_name(name), "owner": owner_id,
                       "team": team_id, "created_at": now - datetime.timedelta(days=rng.randint(0, 2000)),
                       "updated_at": now}

        bulk_insert(Customer, customer_rows())
        customer_rows_list = list(Customer.objects.values_list("id", "owner_id", "team_id").order_by("id"))
        # The biggest customer gets one contract in a hundred: its 360 page is a real load.
        biggest = customer_rows_list[0]
        statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
        today = datetime.date.today()

        def contract_rows():
            for i in range(contracts):
                cid, owner_id, team_id = biggest if i % 100 == 0 else rng.choice(customer_rows_list)
                effective = today - datetime.timedelta(days=rng.randint(-60, 1800))
                created = datetime.datetime.combine(effective, datetime.time(9), datetime.UTC) - datetime.timedelta(
                    days=rng.randint(1, 30), seconds=rng.randint(0, 86_000))
                yield {
                    "number": f"HT-{effective.year}-{i + 1:07d}", "title": rng.choice(TITLES), "customer": cid,
                    "owner": owner_id, "team": team_id, "amount": Decimal(rng.randint(1_000, 5_000_000)),
                    "currency": "CNY" if rng.random() < 0.93 else rng.choice(["USD", "EUR", "HKD"]),
                    "tax_rate": Decimal(rng.choice([0, 6, 9, 13])), "effective_date": effective,
                    "signing_date": effective - datetime.timedelta(days=rng.randint(0, 20)),
                    "expiry_date": effective + datetime.timedelta(days=rng.randint(30, 1100)),
                    "nature": rng.choice(Nature.values), "subject_matter": rng.choice(SubjectMatter.values),
                    "signing_form": rng.choice(SigningForm.values),
                    "status": rng.choices(statuses, weights)[0], "created_at": created, "updated_at": created,
                    "status_changed_at": created + datetime.timedelta(days=rng.randint(0, 60)),
                }

        # ContractStat's triggers would upsert a row per contract (a third of the load time on
        # PostgreSQL): load without them, then install them, which counts the contracts in one pass.
        drop_stat_triggers()
        bulk_insert(Contract, contract_rows())
        install_stat_triggers()
    analyze()
    manager = User.objects.filter(role="manager", team=teams[0]).first()
    return {"manager": manager, "sales": User.objects.filter(role="sales", team=teams[0]).first(),
            "legal": User.objects.get(username="bench_legal"), "biggest_customer": Customer.objects.get(pk=biggest[0])}
