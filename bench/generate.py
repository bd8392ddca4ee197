"""A seeded data set for the benchmark, inserted in bulk (bypassing services and the audit log)."""

import datetime
import random
from decimal import Decimal

from django.db import transaction

from qiyue.accounts.models import Team, User
from qiyue.contracts.models import Contract, Nature, SigningForm, Status, SubjectMatter
from qiyue.core.text import normalize_company_name
from qiyue.customers.models import Customer

CITIES = ["上海", "北京", "深圳", "杭州", "苏州", "成都", "武汉", "南京", "广州", "天津"]
WORDS = ["明德", "华信", "启航", "恒通", "中科", "远景", "瑞丰", "天成", "博远", "鼎盛", "新元", "海川"]
TRADES = ["精密机械", "电子科技", "信息技术", "物流", "医疗器械", "新能源", "建设工程", "食品"]
TITLES = ["设备采购合同", "技术服务合同", "软件许可协议", "厂房租赁合同", "年度框架协议", "运维服务合同"]


def generate(*, contracts: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    customers_n = max(10, contracts // 10)
    with transaction.atomic():
        teams = [Team.objects.create(name=f"销售{i}部") for i in range(10)]
        password = "bench-password-2026"
        users = []
        for i, team in enumerate(teams):
            for role in ("manager", "sales", "sales"):
                user = User(username=f"{role}{i}_{len(users)}", role=role, team=team)
                user.set_password(password)
                users.append(user)
        legal = User(username="bench_legal", role="legal")
        legal.set_password(password)
        User.objects.bulk_create([*users, legal], batch_size=500)
        users = list(User.objects.filter(role__in=["manager", "sales"]))
        legal = User.objects.get(username="bench_legal")
        rows = []
        for i in range(customers_n):
            owner = rng.choice(users)
            name = f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(TRADES)}{i}有限公司"
            rows.append(Customer(name=name, name_normalized=normalize_company_name(name), owner=owner,
                                 team_id=owner.team_id))
        Customer.objects.bulk_create(rows, batch_size=2000)
        customers = list(Customer.objects.values_list("id", "owner_id", "team_id"))
        biggest = customers[0]
        today = datetime.date.today()
        statuses = Status.values
        batch = []
        for i in range(contracts):
            # One customer in a hundred contracts is the biggest, so its 360 page is a real load.
            cid, owner_id, team_id = biggest if i % 100 == 0 else rng.choice(customers)
            effective = today - datetime.timedelta(days=rng.randint(0, 1500))
            batch.append(Contract(
                number=f"HT-B-{i:07d}", title=rng.choice(TITLES), customer_id=cid, owner_id=owner_id,
                team_id=team_id, amount=Decimal(rng.randint(1000, 5_000_000)), currency="CNY",
                effective_date=effective, expiry_date=effective + datetime.timedelta(days=rng.randint(30, 1100)),
                signing_date=effective, nature=rng.choice(Nature.values), subject_matter=rng.choice(SubjectMatter.values),
                signing_form=rng.choice(SigningForm.values), status=rng.choice(statuses),
            ))
            if len(batch) == 5000:
                Contract.objects.bulk_create(batch)
                batch = []
        Contract.objects.bulk_create(batch)
    return {"manager": User.objects.filter(role="manager").first(), "legal": legal,
            "biggest_customer": Customer.objects.get(pk=biggest[0])}
