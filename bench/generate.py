"""A seeded benchmark data set: teams and users, customers, contracts, inserted in bulk (bypassing
the services), with the audit log the services would have written (bench/audit_data.py).

Like a real company's book: most contracts have their optional facts filled (our signing entity, the
counterparty's signatory, tags, a description with the payment terms, notice period, renewal,
supplements to framework agreements); every customer and contract has its creation event, and the
contracts created in the last HISTORY_DAYS (the earlier ones came in with an import) their edits and
every status change on the way to their status, each at its time, the chain in time order.
"""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from qiyue.accounts.models import Team, User
from qiyue.contracts.models import (
    Contract,
    ContractTag,
    Nature,
    SigningForm,
    SigningMethod,
    Status,
    SubjectMatter,
)
from qiyue.contracts.services import CONTRACT_FIELDS
from qiyue.contracts.stat_triggers import drop_stat_triggers, install_stat_triggers
from qiyue.core import tags as tag_vocabulary
from qiyue.core.text import normalize_company_name
from qiyue.customers.models import Customer, CustomerTag

from .audit_data import Requests, actor_fields, append_events
from .fastload import analyze, bulk_insert, speed_up_sqlite

CITIES = ["上海", "北京", "深圳", "杭州", "苏州", "成都", "武汉", "南京", "广州", "天津"]
WORDS = ["明德", "华信", "启航", "恒通", "中科", "远景", "瑞丰", "天成", "博远", "鼎盛", "新元", "海川"]
TRADES = ["精密机械", "电子科技", "信息技术", "物流", "医疗器械", "新能源", "建设工程", "食品"]
TITLES = ["设备采购合同", "技术服务合同", "软件许可协议", "厂房租赁合同", "年度框架协议", "运维服务合同",
          "原材料供货合同", "咨询服务协议", "合资经营合同", "专利许可协议"]
FRAMEWORK_TITLE = "年度框架协议"
# Status mix of a company's book: most contracts have run their course or are running.
STATUS_WEIGHTS = {Status.DRAFT: 4, Status.IN_REVIEW: 2, Status.APPROVED: 1, Status.SIGNED: 3, Status.ACTIVE: 30,
                  Status.COMPLETED: 35, Status.EXPIRED: 15, Status.TERMINATED: 5, Status.CANCELLED: 5}
TEAMS = 20
PASSWORD = "bench-password-2026"

# The optional facts (drawn from their own RNG, so the fields above stay what they were for a seed).
OUR_ENTITIES = ["上海启月信息技术有限公司", "北京启月信息技术有限公司", "启月信息技术（深圳）有限公司",
                "杭州启月软件有限公司", "启月国际贸易（香港）有限公司"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "海燕", "志强", "晓东", "丽华", "明", "帆", "敏", "刚", "涛", "秀英", "伟", "静", "磊", "洋", "婷"]
SIGNATORY_ROLES = ["", "", "", "（法定代表人）", "（授权代表）", "（总经理）"]
TAGS = ["重点客户", "续签", "政府采购", "含保密条款", "含违约金条款", "外币结算", "战略合作", "集团统签",
        "需法务复核", "分期付款", "质保金", "年度预算内"]
PURPOSES = {
    Nature.SALES: ["我方向客户销售{g}，含安装调试", "客户分批采购{g}，按订单交付"],
    Nature.PURCHASE: ["我方向对方采购{g}", "双方就{g}的长期供货达成一致"],
    Nature.SERVICE: ["我方为客户提供{g}年度运维支持", "客户委托我方进行{g}的定制开发与实施"],
    Nature.LEASE: ["租赁对方位于{c}的厂房及配套仓库", "客户租用我方{g}，按月计租"],
    Nature.JOINT_VENTURE: ["双方在{c}合资设立项目公司，经营{g}业务"],
    Nature.LICENSING: ["授权客户在中国境内使用{g}相关专利与软件", "我方获许可使用对方{g}技术"],
    Nature.OTHER: ["双方就{g}项目开展合作"],
}
GOODS = ["数控加工中心", "服务器及存储设备", "冷链物流", "医疗影像设备", "光伏组件", "企业资源计划系统", "工业机器人",
         "实验室检测仪器"]
PAYMENT_TERMS = ["预付30%，验收合格后支付60%，余款10%作为质保金于质保期满后支付", "按季度结算，收到发票后30日内付款",
                 "货到验收合格后60日内一次性付清", "服务费按月支付，每月5日前开具发票", "分三期支付：签约、交付、终验各付三分之一",
                 "预付20%，其余按实际交付量每月结算"]
REMARKS = ["", "含两年免费质保。", "价格含税含运费。", "交付地点为甲方{c}工厂。", "到期前九十日内双方协商续约事宜。",
           "附件包括技术规格书和报价单。"]
FRAMEWORK_NO_AMOUNT = "框架协议不约定总价，金额以各补充协议为准"
SUPPLEMENT_TITLES = ["补充协议", "订单", "变更协议"]  # a supplement's title: its own kind + one of these
RETURN_REASONS = ["请补充付款条款", "金额与报价单不一致，请核对", "请上传盖章版报价单", "违约责任条款需按模板修改"]
TERMINATE_REASONS = ["对方严重违约，经协商一致解除合同", "项目取消，双方协商提前终止", "客户经营异常，依约解除"]
CANCEL_REASONS = ["客户需求变更，合同不再签署", "报价未获客户认可", "与另一份合同重复，作废"]

# Contracts created within these many days went through the workflow in the application: their events
# are their edits and every status change; older ones came in with an import (a creation event only).
HISTORY_DAYS = 730
EDIT_SHARE = 0.25
RETURN_SHARE = 0.15
# The way from draft to each status, as transition names (terminated: after activation, or before).
PATHS = {
    Status.DRAFT: [], Status.IN_REVIEW: ["submit"], Status.APPROVED: ["submit", "approve"],
    Status.SIGNED: ["submit", "approve", "sign"], Status.ACTIVE: ["submit", "approve", "sign", "activate"],
    Status.COMPLETED: ["submit", "approve", "sign", "activate", "complete"],
    Status.EXPIRED: ["submit", "approve", "sign", "activate", "expire"],
    Status.TERMINATED: ["submit", "approve", "sign", "activate", "terminate"], Status.CANCELLED: ["cancel"],
}
TARGETS = {"submit": Status.IN_REVIEW, "return": Status.DRAFT, "approve": Status.APPROVED, "sign": Status.SIGNED,
           "activate": Status.ACTIVE, "complete": Status.COMPLETED, "expire": Status.EXPIRED,
           "terminate": Status.TERMINATED, "cancel": Status.CANCELLED}
SIGNED_STATUSES = {Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED, Status.TERMINATED}
# The choices' values once (TextChoices.values builds a new list on every call).
NATURES, SUBJECT_MATTERS, SIGNING_FORMS = Nature.values, SubjectMatter.values, SigningForm.values
SIGNING_METHODS = SigningMethod.values


def generate(*, contracts: int, customers: int | None = None, seed: int = 7) -> dict:
    rng = random.Random(seed)
    extra = random.Random(seed * 1_000_003 + 1)  # optional facts, supplements
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
        rows: list[dict] = []  # kept for the audit events
        frameworks: dict[int, list[dict]] = {}  # customer id → its framework agreements so far
        first_contract: dict[int, datetime.datetime] = {}  # customer id → its first contract's creation

        def contract_rows():
            for i in range(contracts):
                cid, owner_id, team_id = biggest if i % 100 == 0 else rng.choice(customer_rows_list)
                effective = today - datetime.timedelta(days=rng.randint(-60, 1800))
                created = datetime.datetime.combine(effective, datetime.time(9), datetime.UTC) - datetime.timedelta(
                    days=rng.randint(1, 30), seconds=rng.randint(0, 86_000))
                row = {
                    "number": f"HT-{effective.year}-{i + 1:07d}", "title": rng.choice(TITLES), "customer": cid,
                    "owner": owner_id, "team": team_id, "amount": Decimal(rng.randint(1_000, 5_000_000)),
                    "currency": "CNY" if rng.random() < 0.93 else rng.choice(["USD", "EUR", "HKD"]),
                    "tax_rate": Decimal(rng.choice([0, 6, 9, 13])), "effective_date": effective,
                    "signing_date": effective - datetime.timedelta(days=rng.randint(0, 20)),
                    "expiry_date": effective + datetime.timedelta(days=rng.randint(30, 1100)),
                    "nature": rng.choice(NATURES), "subject_matter": rng.choice(SUBJECT_MATTERS),
                    "signing_form": rng.choice(SIGNING_FORMS),
                    "status": rng.choices(statuses, weights)[0], "created_at": created, "updated_at": created,
                    "status_changed_at": created + datetime.timedelta(days=rng.randint(0, 60)),
                }
                _fill_optional(extra, row, now, frameworks)
                if row["created_at"] < first_contract.get(cid, now):
                    first_contract[cid] = row["created_at"]
                rows.append(row)
                yield row

        # ContractStat's triggers would upsert a row per contract (a third of the load time on
        # PostgreSQL): load without them, then install them, which counts the contracts in one pass.
        drop_stat_triggers()
        bulk_insert(Contract, contract_rows())
        ids = dict(Contract.objects.values_list("number", "id"))
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Contract._meta.db_table)
            cursor.executemany(f"UPDATE {table} SET parent_id = %s WHERE id = %s",  # noqa: S608
                               [(ids[row["parent_number"]], ids[row["number"]]) for row in rows
                                if row.get("parent_number")])
        install_stat_triggers()
        # The tag pick lists' vocabularies, as the services keep them on every save.
        tag_vocabulary.backfill(ContractTag, Contract.objects.all())
        tag_vocabulary.backfill(CustomerTag, Customer.objects.all())
        # A customer is created before its first contract.
        customer_created = _customer_creation(extra, first_contract)
        _audit(seed, teams, customer_created, rows, ids, now)
        del rows[:]
    analyze()
    manager = User.objects.filter(role="manager", team=teams[0]).first()
    return {"manager": manager, "sales": User.objects.filter(role="sales", team=teams[0]).first(),
            "legal": User.objects.get(username="bench_legal"), "biggest_customer": Customer.objects.get(pk=biggest[0])}


def _fill_optional(extra: random.Random, row: dict, now: datetime.datetime, frameworks: dict) -> None:
    """The facts a user fills in on most contracts, the workflow's facts, and times never in the future."""
    if row["created_at"] > now:  # effective up to 60 days ahead: created before today
        row["created_at"] = row["updated_at"] = now - datetime.timedelta(seconds=extra.randint(3_600, 20 * 86_400))
    row["status_changed_at"] = max(row["created_at"], min(row["status_changed_at"], now))
    status = row["status"]
    if extra.random() < 0.95:
        foreign = row["currency"] != "CNY"
        row["our_entity"] = OUR_ENTITIES[-1] if foreign else extra.choice(OUR_ENTITIES[:-1])
    if extra.random() < 0.85:
        row["counterparty_signatory"] = (extra.choice(SURNAMES) + extra.choice(GIVEN)
                                         + extra.choice(SIGNATORY_ROLES))
    if extra.random() < 0.7:
        row["tags"] = ",".join(extra.sample(TAGS, extra.choice([1, 1, 2, 2, 3])))
    if extra.random() < 0.8:
        city = extra.choice(CITIES)
        purpose = extra.choice(PURPOSES[row["nature"]]).format(g=extra.choice(GOODS), c=city)
        row["description"] = f"{purpose}。付款方式：{extra.choice(PAYMENT_TERMS)}。{extra.choice(REMARKS).format(c=city)}"
    if row["nature"] in (Nature.LEASE, Nature.SERVICE, Nature.LICENSING) or extra.random() < 0.2:
        row["auto_renewal"] = extra.random() < 0.4
        row["notice_period_days"] = extra.choice([30, 30, 60, 90, 180])
        if extra.random() < 0.08:  # runs until terminated
            row["open_ended"], row["expiry_date"] = True, None
    if status in SIGNED_STATUSES:
        row["signing_method"] = extra.choice(SIGNING_METHODS)
    else:
        row["signing_date"] = None  # recorded by the sign transition only
    if status == Status.TERMINATED:
        row["status_reason"] = extra.choice(TERMINATE_REASONS)
    elif status == Status.CANCELLED:
        row["status_reason"] = extra.choice(CANCEL_REASONS)
    cid = row["customer"]
    if row["title"] == FRAMEWORK_TITLE:
        if extra.random() < 0.5:
            row["amount"], row["no_amount_reason"] = Decimal(0), FRAMEWORK_NO_AMOUNT
        frameworks.setdefault(cid, []).append(row)
    elif frameworks.get(cid) and extra.random() < 0.3:
        parent = extra.choice(frameworks[cid])
        if parent["created_at"] < row["created_at"]:
            row["parent_number"] = parent["number"]
            row["parent_label"] = f"{parent['number']} {parent['title']}"
            row["title"] = row["title"][:-2] + extra.choice(SUPPLEMENT_TITLES)  # 设备采购合同 → 设备采购订单


def _customer_creation(extra: random.Random, first_contract: dict) -> dict[int, datetime.datetime]:
    """Customer id → creation time, moved before the customer's first contract where it was later."""
    created = dict(Customer.objects.values_list("id", "created_at"))
    moved = []
    for cid, first in first_contract.items():
        if created[cid] > first:
            created[cid] = first - datetime.timedelta(seconds=extra.randint(600, 30 * 86_400))
            moved.append((created[cid], cid))
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Customer._meta.db_table)
        cursor.executemany(f"UPDATE {table} SET created_at = %s WHERE id = %s", moved)  # noqa: S608
    return created


def _audit_value(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _audit(seed: int, teams, customer_created: dict, rows: list[dict], ids: dict, now) -> int:
    """The audit log of the customers and contracts: in time order, chained, bulk-inserted."""
    rng = random.Random(seed * 1_000_003 + 2)
    users = {pk: (pk, name or username, role) for pk, name, username, role in
             User.objects.values_list("id", "display_name", "username", "role")}
    team_names = {team.pk: team.name for team in teams}
    managers = dict(User.objects.filter(role="manager").values_list("team_id", "id"))
    legal = User.objects.get(username="bench_legal").pk
    customers = {pk: (name, owner, team, industry, level) for pk, name, owner, team, industry, level in
                 Customer.objects.values_list("id", "name", "owner_id", "team_id", "industry", "level")}
    # (time, order, kind, index): creation events first at equal times; rendered when chained.
    plan: list[tuple] = [(created, 0, "customer", cid) for cid, created in customer_created.items()]
    history_from = now - datetime.timedelta(days=HISTORY_DAYS)
    for index, row in enumerate(rows):
        start = row["created_at"]
        plan.append((start, 1, "created", index))
        if start < history_from:
            continue
        steps = list(PATHS[row["status"]])
        if steps and steps[0] == "submit" and rng.random() < RETURN_SHARE:
            steps[1:1] = ["return", "submit"]
        if rng.random() < EDIT_SHARE:  # an edit in draft, before it went anywhere
            steps.insert(0, "update")
            field = rng.choice(["amount", "title"]) if row["amount"] else "title"
            if field == "amount":
                old = _audit_value(Decimal(int(row["amount"] * Decimal(rng.uniform(0.8, 1.2)))))
            else:
                old = rng.choice([t for t in TITLES if t != row["title"]])
            row["_edit"] = (field, old)
        if not steps:
            continue
        end = row["status_changed_at"]
        span = max((end - start).total_seconds(), len(steps) * 60.0)
        times = sorted(rng.uniform(60, span) for _ in steps[:-1]) + [span]
        for order, (step, seconds) in enumerate(zip(steps, times, strict=True), start=2):
            plan.append((start + datetime.timedelta(seconds=seconds), order, step, index))
    plan.sort(key=lambda item: (item[0], item[1], item[3]))
    requests = Requests(rng)
    state: dict[int, tuple[str, str]] = {}  # contract index → (status, status reason) as the events go

    def render(when, kind, index):
        if kind == "customer":
            name, owner, team, industry, level = customers[index]
            changes = {"name": [None, name], "industry": [None, industry], "level": [None, level],
                       "owner": [None, {"id": owner, "label": users[owner][1]}]}
            if team:
                changes["team"] = [None, {"id": team, "label": team_names[team]}]
            return {"occurred_at": when, "action": "customer.created", **actor_fields(users[owner]),
                    **requests.facts(owner), "target_type": "customers.customer", "target_id": str(index),
                    "target_label": name, "contract_id": None, "customer_id": index, "changes": changes}
        row = rows[index]
        pk = ids[row["number"]]
        owner = users[row["owner"]]
        actor = owner
        edit = row.get("_edit")
        if kind == "created":
            changes = _snapshot(row, customers, users, team_names, ids)
            action, title = "contract.created", row["title"]
            if edit is not None:  # the edit comes later: the contract was created with the older value
                changes[edit[0]] = [None, edit[1]]
                if edit[0] == "title":
                    title = edit[1]
            state[index] = (Status.DRAFT, "")
        elif kind == "update":
            field, old = edit
            action, title = "contract.updated", row["title"]
            changes = {field: [old, _audit_value(row[field])]}
        else:
            status, reason = state.get(index, (Status.DRAFT, ""))
            target = TARGETS[kind]
            changes = {"status": [status, target]}
            new_reason = ""
            if kind == "return":
                new_reason = rng.choice(RETURN_REASONS)
            elif kind in ("terminate", "cancel"):
                new_reason = row.get("status_reason", "")
            if new_reason != reason:
                changes["status_reason"] = [reason, new_reason]
            if kind == "sign":
                changes["signing_method"] = ["", row["signing_method"]]
                changes["signing_date"] = [None, _audit_value(row["signing_date"])]
            if kind in ("approve", "return", "terminate"):
                actor = users[legal] if rng.random() < 0.4 else users[managers.get(row["team"], legal)]
            elif kind in ("expire", "activate") and (kind == "expire" or rng.random() < 0.7):
                actor = None
            state[index] = (target, new_reason)
            action, title = f"contract.{kind}", row["title"]
        return {"occurred_at": when, "action": action, **actor_fields(actor),
                **requests.facts(actor[0] if actor else None), "target_type": "contracts.contract",
                "target_id": str(pk), "target_label": f"{row['number']} {title}", "contract_id": pk,
                "customer_id": row["customer"], "changes": changes}

    return append_events(render(when, kind, index) for when, _order, kind, index in plan)


def _snapshot(row: dict, customers: dict, users: dict, team_names: dict, ids: dict) -> dict:
    """The creation event's changes: every contract field set, {field: [None, value]} (core.services.snapshot)."""
    out = {}
    for name in CONTRACT_FIELDS:
        if name == "customer":
            value = {"id": row["customer"], "label": customers[row["customer"]][0]}
        elif name == "owner":
            value = {"id": row["owner"], "label": users[row["owner"]][1]}
        elif name == "team":
            value = {"id": row["team"], "label": team_names[row["team"]]} if row["team"] else None
        elif name == "parent":
            value = ({"id": ids[row["parent_number"]], "label": row["parent_label"]} if row.get("parent_number")
                     else None)
        else:
            value = _audit_value(row.get(name, _DEFAULTS[name]))
        if value not in (None, "", []):
            out[name] = [None, value]
    return out


_DEFAULTS = {f.name: f.get_default() for f in Contract._meta.concrete_fields}
