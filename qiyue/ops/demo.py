"""The demo company (`qiyue demo`): a realistic Chinese data set built through the services.

Everything goes through the same services the UI and API call, so the audit trail of the demo
is real and `qiyue audit verify` passes. Dates are relative to today, so the dashboard's
30/60/90-day expiry buckets are populated whenever the demo is loaded.

Demo passwords are random per installation and kept in `$QIYUE_DATA_DIR/demo_logins.txt`
(mode 0600) so that `make run` can print how to log in every time.
"""

import datetime
import os
import random
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qiyue.accounts.models import User
from qiyue.accounts.services import team_get_or_create, user_create
from qiyue.contracts.models import Contract, Nature, SigningForm, SigningMethod, Status, SubjectMatter
from qiyue.contracts.services import contract_create, contract_transition
from qiyue.core.money import quantize_money
from qiyue.core.roles import Role
from qiyue.core.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from qiyue.customers.models import Communication, Customer, CustomerLevel, Industry
from qiyue.customers.services import communication_create, contact_create, customer_create
from qiyue.finance import services as finance
from qiyue.finance.money import split_by_shares
from qiyue.notifications.kinds import kinds as notification_kinds
from qiyue.notifications.models import Notification, NotificationSetting
from qiyue.workflow import checklist
from qiyue.workflow.models import ApprovalTask
from qiyue.workflow.services import approval_decide

LOGINS_FILENAME = "demo_logins.txt"
OUR_ENTITY = "上海启越智能制造有限公司"
EAST, SOUTH = "华东销售部", "华南销售部"

# username, role, team, display name
DEMO_USERS = (
    ("admin", Role.ADMIN, None, "周明远"),
    ("manager", Role.MANAGER, EAST, "陈静"),
    ("sales", Role.SALES, EAST, "李强"),
    ("sales2", Role.SALES, SOUTH, "黄志伟"),
    ("legal", Role.LEGAL, None, "刘洋"),
    ("finance", Role.FINANCE, None, "赵敏"),
    ("auditor", Role.AUDITOR, None, "孙丽华"),
)
DEMO_USERNAMES = tuple(u[0] for u in DEMO_USERS)

Ind, Lvl = Industry, CustomerLevel
# name, industry, level, address, e-mail domain, tags, region code (None: foreign, no credit code), team
CUSTOMERS = (
    ("上海明德精密机械有限公司", Ind.MANUFACTURING, Lvl.KEY, "上海市嘉定区安亭镇墨玉路185号", "mingde-jx.com",
     "精密加工,老客户", "310114", EAST),
    ("杭州云栖数智科技有限公司", Ind.IT, Lvl.STRATEGIC, "杭州市西湖区云栖小镇创业路28号", "yunqi-tech.cn",
     "SaaS,战略合作", "330106", EAST),
    ("苏州华鑫电子有限公司", Ind.MANUFACTURING, Lvl.KEY, "苏州市工业园区星湖街328号", "huaxin-elec.com",
     "电子元器件", "320594", EAST),
    ("南京金陵医药股份有限公司", Ind.HEALTHCARE, Lvl.STRATEGIC, "南京市玄武区中山路18号", "jinling-pharma.com",
     "医药,上市公司", "320102", EAST),
    ("宁波港通国际物流有限公司", Ind.LOGISTICS, Lvl.REGULAR, "宁波市北仑区明州路66号", "gangtong-log.com",
     "物流", "330206", EAST),
    ("无锡太湖新能源有限公司", Ind.ENERGY, Lvl.KEY, "无锡市新吴区清源路20号", "taihu-ne.com",
     "光伏,新能源", "320214", EAST),
    ("上海浦江建设工程有限公司", Ind.CONSTRUCTION, Lvl.REGULAR, "上海市浦东新区张杨路500号", "pujiang-build.com",
     "工程", "310115", EAST),
    ("杭州西子餐饮管理有限公司", Ind.RETAIL, Lvl.SMALL, "杭州市上城区解放路138号", "xizi-food.cn",
     "连锁", "330102", EAST),
    ("上海申通融资租赁有限公司", Ind.FINANCE, Lvl.KEY, "上海市黄浦区南京东路300号", "shentong-lease.com",
     "金融,融资租赁", "310101", EAST),
    ("嘉兴禾润纺织有限公司", Ind.MANUFACTURING, Lvl.SMALL, "嘉兴市南湖区中环南路1188号", "herun-tex.com",
     "纺织", "330402", EAST),
    ("常州天宁智能装备有限公司", Ind.MANUFACTURING, Lvl.REGULAR, "常州市天宁区青洋北路1号", "tianning-ie.com",
     "智能装备", "320402", EAST),
    ("上海博雅教育科技有限公司", Ind.EDUCATION, Lvl.REGULAR, "上海市徐汇区漕溪北路88号", "boya-edu.cn",
     "教育", "310104", EAST),
    ("合肥瀚海信息技术有限公司", Ind.IT, Lvl.REGULAR, "合肥市高新区望江西路800号", "hanhai-it.com",
     "软件", "340104", EAST),
    ("绍兴越州建材有限公司", Ind.CONSTRUCTION, Lvl.SMALL, "绍兴市越城区解放北路12号", "yuezhou-bm.com",
     "建材", "330602", EAST),
    ("上海东方航运服务有限公司", Ind.LOGISTICS, Lvl.KEY, "上海市虹口区东大名路1089号", "dongfang-ship.com",
     "航运,出口", "310109", EAST),
    ("苏州姑苏文旅发展集团有限公司", Ind.GOVERNMENT, Lvl.REGULAR, "苏州市姑苏区人民路1号", "gusu-ct.com",
     "国有企业", "320508", EAST),
    ("深圳前海星辰供应链管理有限公司", Ind.LOGISTICS, Lvl.KEY, "深圳市前海深港合作区前湾一路1号", "xingchen-scm.com",
     "供应链,出口", "440300", SOUTH),
    ("广州羊城汽车零部件有限公司", Ind.MANUFACTURING, Lvl.STRATEGIC, "广州市番禺区市桥街富华西路2号",
     "yangcheng-auto.com", "汽车,战略合作", "440113", SOUTH),
    ("深圳南山云图软件有限公司", Ind.IT, Lvl.KEY, "深圳市南山区科技园科苑路15号", "yuntu-soft.com",
     "软件,SaaS", "440305", SOUTH),
    ("东莞长安模具制造有限公司", Ind.MANUFACTURING, Lvl.REGULAR, "东莞市长安镇振安中路168号", "changan-mold.com",
     "模具", "441900", SOUTH),
    ("佛山顺德家电集团有限公司", Ind.MANUFACTURING, Lvl.STRATEGIC, "佛山市顺德区大良街道德胜东路3号",
     "shunde-appl.com", "家电,年度框架", "440606", SOUTH),
    ("厦门海沧港务有限公司", Ind.LOGISTICS, Lvl.REGULAR, "厦门市海沧区港南路439号", "haicang-port.com",
     "港口,出口", "350205", SOUTH),
    ("广州天河商业地产有限公司", Ind.CONSTRUCTION, Lvl.KEY, "广州市天河区天河路385号", "tianhe-re.com",
     "商业地产", "440106", SOUTH),
    ("珠海横琴生物医药有限公司", Ind.HEALTHCARE, Lvl.REGULAR, "珠海市横琴新区环岛东路3000号", "hengqin-bio.com",
     "生物医药", "440404", SOUTH),
    ("深圳宝安新材料科技有限公司", Ind.MANUFACTURING, Lvl.SMALL, "深圳市宝安区西乡街道宝源路1068号", "baoan-nm.com",
     "新材料", "440306", SOUTH),
    ("广州岭南教育发展有限公司", Ind.EDUCATION, Lvl.SMALL, "广州市越秀区中山四路36号", "lingnan-edu.cn",
     "教育", "440104", SOUTH),
    ("中山华南照明电器有限公司", Ind.MANUFACTURING, Lvl.REGULAR, "中山市古镇镇中兴大道南1号", "huanan-light.com",
     "照明", "442000", SOUTH),
    ("海口椰风旅游开发有限公司", Ind.RETAIL, Lvl.SMALL, "海口市美兰区海甸五西路20号", "yefeng-travel.com",
     "文旅", "460108", SOUTH),
    ("南宁绿城能源有限公司", Ind.ENERGY, Lvl.REGULAR, "南宁市青秀区民族大道136号", "lvcheng-energy.com",
     "能源,政府采购", "450103", SOUTH),
    ("Müller Präzisionstechnik GmbH（德国穆勒精密技术）", Ind.MANUFACTURING, Lvl.KEY,
     "Industriestraße 12, 70565 Stuttgart, Deutschland", "mueller-praezision.de", "外资,进口", None, EAST),
)

SURNAMES = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
            ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"))
GIVEN_NAMES = (("伟", "wei"), ("芳", "fang"), ("静", "jing"), ("磊", "lei"), ("婷", "ting"), ("建华", "jianhua"),
               ("晓明", "xiaoming"), ("丽娟", "lijuan"), ("志强", "zhiqiang"), ("海燕", "haiyan"), ("俊杰", "junjie"),
               ("秀英", "xiuying"), ("文博", "wenbo"), ("雪梅", "xuemei"), ("国栋", "guodong"), ("思远", "siyuan"))
CONTACT_TITLES = ("采购经理", "总经理", "法务专员", "财务总监", "技术负责人", "项目经理", "行政主管")
COMMUNICATIONS = (
    ("visit", "上门拜访{name}，了解其{year}年采购计划，客户对我司交付能力表示认可。"),
    ("phone", "电话沟通报价细节，客户希望账期由60天延长至90天，已反馈财务评估。"),
    ("wechat", "微信确认技术参数与交货时间，对方要求分两批发货。"),
    ("meeting", "组织双方技术与商务会议，讨论合同条款中的验收标准和违约责任。"),
    ("email", "邮件发送正式报价单及合同草稿，请客户法务审阅。"),
    ("meeting", "季度回访：客户反馈设备运行稳定，有意向续签并扩大采购规模。"),
    ("phone", "催收第二期款项，客户承诺月底前完成付款。"),
    ("visit", "陪同客户参观我司生产基地，演示新一代产品。"),
)

# What each kind of contract is about: title patterns, subject matters, amount range, tax rate.
NATURE_PROFILES = {
    Nature.SALES: (("{year}年度{p}销售合同", "{p}购销合同"), ("数控机床", "伺服电机", "工业机器人", "传感器模组",
                   "自动化产线", "精密减速机"), (SubjectMatter.MOVABLE, SubjectMatter.MOVABLE, SubjectMatter.OTHER),
                   (50_000, 3_000_000), "13.00"),
    Nature.PURCHASE: (("{p}采购合同", "{year}年{p}采购协议"), ("铝合金型材", "电子元器件", "包装材料", "工业润滑油",
                      "检测服务"), (SubjectMatter.MOVABLE, SubjectMatter.SERVICES), (20_000, 1_500_000), "13.00"),
    Nature.SERVICE: (("{p}服务合同", "{year}年度{p}服务协议"), ("设备维保", "软件实施", "技术咨询", "运维外包",
                     "员工培训"), (SubjectMatter.SERVICES, SubjectMatter.SERVICES, SubjectMatter.IP),
                     (30_000, 800_000), "6.00"),
    Nature.LEASE: (("{p}租赁合同",), ("厂房", "办公场地", "叉车设备", "仓库", "生产设备"),
                   (SubjectMatter.REAL_ESTATE, SubjectMatter.MOVABLE), (100_000, 2_500_000), "9.00"),
    Nature.JOINT_VENTURE: (("{p}合资经营合同",), ("智能装备", "新能源电池", "华南生产基地"),
                           (SubjectMatter.OTHER, SubjectMatter.REAL_ESTATE), (5_000_000, 30_000_000), "0.00"),
    Nature.LICENSING: (("{p}许可协议",), ("MES软件", "专利", "商标", "工业设计", "数据接口"),
                       (SubjectMatter.IP,), (50_000, 900_000), "6.00"),
    Nature.OTHER: (("{p}",), ("战略合作协议", "保密协议", "技术合作备忘录", "质量保证协议"),
                   (SubjectMatter.OTHER, SubjectMatter.SERVICES), (0, 200_000), "6.00"),
}
TAGS = ("重点项目", "续签", "政府采购", "出口", "紧急", "年度框架", "新客户")
SUPPLEMENT_TOPICS = ("价格调整", "交货期变更", "增加采购数量", "付款方式变更", "延长服务期限")

# How many demo contracts end in each status (200 in all).
STATUS_PLAN = {
    Status.ACTIVE: 76, Status.COMPLETED: 24, Status.DRAFT: 20, Status.EXPIRED: 16, Status.IN_REVIEW: 14,
    Status.SIGNED: 14, Status.CANCELLED: 14, Status.TERMINATED: 12, Status.APPROVED: 10,
}
# The transitions that lead from draft to each status.
PATHS = {
    Status.DRAFT: (),
    Status.IN_REVIEW: ("submit",),
    Status.APPROVED: ("submit", "approve"),
    Status.SIGNED: ("submit", "approve", "sign"),
    Status.ACTIVE: ("submit", "approve", "sign", "activate"),
    Status.COMPLETED: ("submit", "approve", "sign", "activate", "complete"),
    Status.EXPIRED: ("submit", "approve", "sign", "activate", "expire"),
    Status.TERMINATED: ("submit", "approve", "sign", "activate", "terminate"),
    Status.CANCELLED: ("cancel",),
}
REASONS = {
    "return": ("违约责任条款需与法务模板保持一致，请修改后重新提交。", "付款条件与报价单不一致，请核对。"),
    "terminate": ("客户经营调整，双方协商一致提前解除合同。", "对方逾期付款超过90天，依约解除。"),
    "cancel": ("客户取消采购计划。", "商务条件未谈妥，终止起草。", "与其他合同重复，作废。"),
}
# Live contracts expiring within these day ranges: the dashboard's buckets.
EXPIRY_BUCKETS = ((3, 30, 12), (31, 60, 9), (61, 90, 8))


@dataclass
class DemoResult:
    created: bool
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, role
    counts: dict[str, int] = field(default_factory=dict)


def logins_path() -> Path:
    return Path(settings.DATA_DIR) / LOGINS_FILENAME


def write_logins(logins: list[tuple[str, str, str]]) -> Path:
    path = logins_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Qiyue demo logins: username<TAB>password<TAB>role\n")
        for row in logins:
            handle.write("\t".join(row) + "\n")
    os.chmod(path, 0o600)
    return path


def read_logins() -> list[tuple[str, str, str]]:
    path = logins_path()
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("#") or len(parts) != 3:
            continue
        rows.append((parts[0], parts[1], parts[2]))
    return rows


def demo_loaded() -> bool:
    return User.objects.filter(username__in=DEMO_USERNAMES).exists()


def credit_code(rng: random.Random, region: str, used: set[str]) -> str:
    """A valid 18-character code: 9 (enterprise) 1 (company), region, organisation code, check."""
    while True:
        body = "91" + region + "".join(rng.choice(CREDIT_CODE_CHARSET) for _ in range(9))
        code = body + credit_code_check_char(body)
        if code not in used:
            used.add(code)
            return code


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    if high <= 0:
        return Decimal("0.00")
    value = rng.randint(low // 100, high // 100) * 100
    return quantize_money(value, "CNY")


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date):
        self.rng = rng
        self.today = today
        self.users: dict[str, User] = {}
        self.customers: list[tuple[Customer, str, list]] = []  # customer, team, contacts
        self.contracts: list[Contract] = []

    # People ---------------------------------------------------------------------------------
    def people(self) -> list[tuple[str, str, str]]:
        teams = {name: team_get_or_create(actor=None, name=name) for name in (EAST, SOUTH)}
        logins = []
        for username, role, team, display_name in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            self.users[username] = user_create(
                actor=None, username=username, role=role, team=teams[team] if team else None,
                password=password, display_name=display_name, email=f"{username}@qiyue.example.com",
            )
            logins.append((username, password, str(role)))
        # The demo's notifications stay in the inbox: its made-up addresses get no e-mail (each user
        # can turn e-mail on in the notification settings).
        NotificationSetting.objects.bulk_create([NotificationSetting(user=user, kind=kind.key, email=False)
                                                 for user in self.users.values() for kind in notification_kinds()],
                                                ignore_conflicts=True)
        return logins

    def owner_for(self, team: str) -> User:
        if team == SOUTH:
            return self.users["sales2"]
        return self.users["manager"] if self.rng.random() < 0.25 else self.users["sales"]

    # Customers ------------------------------------------------------------------------------
    def customers_and_contacts(self) -> None:
        used: set[str] = set()
        for name, industry, level, address, domain, tags, region, team in CUSTOMERS:
            owner = self.owner_for(team)
            code = credit_code(self.rng, region, used) if region else None
            invoicing = {}
            if code:  # a domestic company's invoicing details (开票信息): its credit code is its taxpayer ID
                invoicing = {"taxpayer_id": code,
                             "invoice_address_phone": f"{address} 0{self.rng.randint(20, 29)}-{self.rng.randint(10_000_000, 99_999_999)}",
                             "invoice_bank_account": f"{self.rng.choice(BANKS)} {self.rng.randint(10**15, 10**16 - 1)}"}
            customer = customer_create(actor=owner, data={
                "name": name, "credit_code": code,
                "industry": industry, "level": level, "address": address, "owner": owner, "tags": tags,
                "notes": f"{name}由{owner}负责跟进。", **invoicing,
            })
            contacts = []
            for i in range(self.rng.randint(1, 3)):
                surname, surname_py = self.rng.choice(SURNAMES)
                given, given_py = self.rng.choice(GIVEN_NAMES)
                contacts.append(contact_create(actor=owner, customer=customer, data={
                    "name": surname + given, "title": CONTACT_TITLES[(i * 3 + len(name)) % len(CONTACT_TITLES)],
                    "phone": f"1{self.rng.choice('3589')}{self.rng.randint(0, 999_999_999):09d}",
                    "email": f"{given_py}.{surname_py}@{domain}", "is_primary": i == 0,
                }))
            self.customers.append((customer, team, contacts))

    # Contracts ------------------------------------------------------------------------------
    def _dates(self, status: str, index: int, bucket: tuple[int, int] | None):
        rng, today = self.rng, self.today
        years = rng.choice((1, 1, 2, 3))
        if bucket is not None:
            expiry = today + datetime.timedelta(days=rng.randint(*bucket))
        elif status in (Status.SIGNED, Status.ACTIVE):
            expiry = today + datetime.timedelta(days=rng.randint(95, 900))
        elif status in (Status.COMPLETED, Status.EXPIRED):
            expiry = today - datetime.timedelta(days=rng.randint(5, 700))
        elif status == Status.TERMINATED:
            expiry = today + datetime.timedelta(days=rng.randint(-200, 500))
        else:  # not yet signed: starts soon
            start = today + datetime.timedelta(days=rng.randint(5, 60))
            return start, start + datetime.timedelta(days=365 * years - 1), None
        effective = expiry - datetime.timedelta(days=365 * years - 1)
        if status != Status.SIGNED and effective > today:
            # In force (or finished): it started before today.
            effective = today - datetime.timedelta(days=rng.randint(10, 120))
        signing = min(effective - datetime.timedelta(days=rng.randint(0, 20)), today)
        if status == Status.SIGNED and bucket is None and effective < today:
            # Signed but not yet in force: it starts soon.
            effective = today + datetime.timedelta(days=rng.randint(1, 20))
            signing = today - datetime.timedelta(days=rng.randint(0, 10))
            expiry = max(expiry, effective + datetime.timedelta(days=30))
        return effective, expiry, signing

    def _plan(self) -> list[dict]:
        rng = self.rng
        statuses = [s for s, n in STATUS_PLAN.items() for _ in range(n)]
        rng.shuffle(statuses)
        natures = list(NATURE_PROFILES)
        plan = []
        live_seen = 0
        buckets = [b for low, high, n in EXPIRY_BUCKETS for b in [(low, high)] * n]
        for i, status in enumerate(statuses):
            bucket = None
            if status in (Status.SIGNED, Status.ACTIVE) and live_seen < len(buckets) and i % 3 != 2:
                bucket = buckets[live_seen]
                live_seen += 1
            nature = natures[i % len(natures)] if i < 70 else rng.choice(natures[:4] * 3 + natures[4:])
            if i % 20 == 7:
                form = SigningForm.ORAL
            elif i % 4 == 1:
                form = SigningForm.ELECTRONIC
            else:
                form = SigningForm.WRITTEN
            plan.append({"status": status, "nature": nature, "form": form, "bucket": bucket,
                         "returned": status in (Status.DRAFT, Status.IN_REVIEW) and i % 5 == 0})
        return plan

    def _contract_data(self, spec: dict, customer: Customer, contacts: list, owner: User, index: int) -> dict:
        rng = self.rng
        patterns, products, subjects, (low, high), tax = NATURE_PROFILES[spec["nature"]]
        effective, expiry, signing = self._dates(spec["status"], index, spec["bucket"])
        spec["signing_date"] = signing
        title = rng.choice(patterns).format(year=effective.year, p=rng.choice(products))
        currency = "CNY"
        if customer.credit_code is None:
            currency = "EUR"
        elif "出口" in customer.tags and rng.random() < 0.5:
            currency = "USD"
        amount = _money(rng, low, high)
        if currency != "CNY":
            amount = quantize_money(amount / 7, currency)
        auto_renewal = rng.random() < 0.2
        tags = [t for t in TAGS if rng.random() < 0.12]
        return {
            "title": title, "customer": customer, "our_entity": OUR_ENTITY,
            "counterparty_signatory": contacts[0].name if contacts else "",
            "amount": amount, "currency": currency, "tax_rate": Decimal(tax),
            "no_amount_reason": "" if amount else "合作类协议，不涉及交易金额。",  # review needs a reason
            "effective_date": effective, "expiry_date": expiry,
            "auto_renewal": auto_renewal, "notice_period_days": rng.choice((30, 60, 90)) if auto_renewal else 0,
            "owner": owner, "tags": ",".join(tags),
            "description": f"{OUR_ENTITY}与{customer.name}签订的{title}。",
            "nature": spec["nature"], "subject_matter": rng.choice(subjects), "signing_form": spec["form"],
        }

    def _decide_all(self, contract: Contract, *, reject_reason: str = "") -> Contract:
        """Take the contract through its approval as its approvers would: each open task decided in
        turn (legal and finance with their checklist), or the first one rejecting with a reason."""
        for _round in range(20):
            task = (ApprovalTask.objects.filter(contract=contract, status="open").select_related("assignee", "step")
                    .order_by("id").first())
            if task is None:
                break
            marks = ({key: {"mark": "pass", "note": ""} for key in checklist.KEYS} if task.step.review else None)
            approval_decide(actor=task.assignee, contract=contract, task_id=task.pk,
                            decision="reject" if reject_reason else "approve", comment=reject_reason,
                            checklist_data=marks)
            if reject_reason:
                break
        contract.refresh_from_db()
        return contract

    def _drive(self, contract: Contract, spec: dict, owner: User) -> Contract:
        rng = self.rng
        legal = self.users["legal"]
        steps = list(PATHS[spec["status"]])
        if spec["returned"]:
            steps = ["submit", "return", *steps]
        for name in steps:
            kwargs: dict = {}
            actor = owner
            if name == "approve":
                contract = self._decide_all(contract)
                continue
            if name == "return":
                contract = self._decide_all(contract, reject_reason=rng.choice(REASONS["return"]))
                continue
            if name == "terminate":
                actor = legal
            if name in REASONS:
                kwargs["reason"] = rng.choice(REASONS[name])
            if name == "sign":
                kwargs["signing_method"] = rng.choice(SigningMethod.values)
                kwargs["signing_date"] = spec["signing_date"] or self.today
            contract = contract_transition(actor=actor, contract=contract, name=name, **kwargs)
        return contract

    def contracts_and_communications(self) -> None:
        rng = self.rng
        plan = self._plan()
        # Framework agreements first (active, long-running), each with 1–3 supplements.
        frameworks: list[tuple[Contract, Customer, list, User]] = []
        framework_customers = [c for c in self.customers if "年度框架" in c[0].tags or c[0].level == Lvl.STRATEGIC]
        supplements_left = []
        for i, spec in enumerate(plan):
            if len(frameworks) < 6 and spec["status"] == Status.ACTIVE and spec["bucket"] is None:
                customer, team, contacts = framework_customers[len(frameworks) % len(framework_customers)]
                owner = customer.owner
                spec["nature"] = Nature.SALES if len(frameworks) % 2 == 0 else Nature.SERVICE
                data = self._contract_data(spec, customer, contacts, owner, i)
                start = data["effective_date"]
                scope = "设备采购" if spec["nature"] == Nature.SALES else "技术服务"
                data["title"] = f"{start.year}—{start.year + 2}年度{scope}框架协议"
                data["tags"] = "年度框架"
                contract = self._drive(contract_create(actor=owner, data=data), spec, owner)
                frameworks.append((contract, customer, contacts, owner))
                self.contracts.append(contract)
                spec["done"] = True
        for i, spec in enumerate(plan):
            if spec.get("done"):
                continue
            if len(supplements_left) < 14 and spec["status"] in (Status.ACTIVE, Status.SIGNED, Status.DRAFT,
                                                                  Status.IN_REVIEW, Status.COMPLETED):
                supplements_left.append(i)
                continue
            customer, team, contacts = self.customers[i % len(self.customers)]
            owner = customer.owner if rng.random() < 0.8 else self.owner_for(team)
            data = self._contract_data(spec, customer, contacts, owner, i)
            self.contracts.append(self._drive(contract_create(actor=owner, data=data), spec, owner))
        per_parent: dict[int, int] = {}
        for n, i in enumerate(supplements_left):
            spec = plan[i]
            parent, customer, contacts, owner = frameworks[n % len(frameworks)]
            per_parent[parent.pk] = per_parent.get(parent.pk, 0) + 1
            data = self._contract_data(spec, customer, contacts, owner, i)
            data["parent"] = parent
            data["title"] = f"{parent.title}之补充协议（第{per_parent[parent.pk]}号）：{rng.choice(SUPPLEMENT_TOPICS)}"
            if data["expiry_date"] > parent.expiry_date and spec["bucket"] is None:
                data["expiry_date"] = parent.expiry_date
            if data["effective_date"] > data["expiry_date"]:
                data["effective_date"] = data["expiry_date"]
            self.contracts.append(self._drive(contract_create(actor=owner, data=data), spec, owner))

        # Communications: a few per customer, some about one of its contracts.
        by_customer: dict[int, list[Contract]] = {}
        for contract in self.contracts:
            by_customer.setdefault(contract.customer_id, []).append(contract)
        for customer, _team, contacts in self.customers:
            for k in range(rng.randint(2, 4)):
                channel, text = rng.choice(COMMUNICATIONS)
                related = by_customer.get(customer.pk) or []
                contract = rng.choice(related) if related and k % 2 == 0 else None
                who = contacts[0].name if contacts else customer.name
                communication_create(actor=customer.owner, customer=customer, data={
                    "occurred_on": self.today - datetime.timedelta(days=rng.randint(1, 240)),
                    "channel": Communication.Channel(channel),
                    "summary": text.format(name=who, year=self.today.year),
                    "contract": contract,
                })


BANKS = ("中国工商银行上海分行营业部", "招商银行杭州分行", "中国建设银行苏州工业园区支行", "交通银行深圳分行",
         "中国银行南京河西支行")
# Obligations of a demo contract: (description, owed by, share of the term after which it falls due).
OBLIGATIONS = {
    Nature.SALES: (("交付设备并完成安装调试", "ours", 0.15), ("客户组织验收并签署验收单", "customer", 0.25),
                   ("提供操作培训与技术文档", "ours", 0.3)),
    Nature.SERVICE: (("提交实施方案", "ours", 0.05), ("完成系统上线并通过验收", "ours", 0.3),
                     ("提交季度服务报告", "ours", 0.6)),
}
# Installment shares of the amount, and which one waits for acceptance (its index, or None).
PLAN_SHAPES = (((30, 60, 10), 1), ((50, 50), None), ((30, 70), 1), ((100,), None), ((40, 30, 30), None))
OWING = (Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED, Status.TERMINATED)


class _Money:
    """A signed contract's obligations, payment plan, invoices and payments, as finance would have
    recorded them."""

    def __init__(self, builder: "_Builder"):
        self.rng, self.today = builder.rng, builder.today
        self.finance = builder.users["finance"]
        self.invoice_number = 0

    def _invoices(self, contract: Contract) -> None:
        """An issued digital invoice for each installment already due (a few days before it), and for
        some contracts a request for the next one."""
        kind = "digital_special" if contract.customer.taxpayer_id else "digital_general"
        requested = False
        for installment in contract.installments.order_by("due_date", "position"):
            due = installment.due_date
            if due is not None and due <= self.today:
                self.invoice_number += 1
                finance.invoice_record(actor=self.finance, contract=contract, data={
                    "kind": kind, "number": f"26{due:%y}4403{self.invoice_number:012d}",
                    "issued_on": min(due - datetime.timedelta(days=self.rng.randint(0, 5)), self.today),
                    "total": installment.amount, "installment": installment.pk})
            elif not requested and self.rng.random() < 0.4:
                requested = True
                finance.invoice_request(actor=contract.owner, contract=contract, data={
                    "kind": kind, "total": installment.amount, "installment": installment.pk,
                    "note": f"第 {installment.position} 期"})

    def _day(self, start: datetime.date, end: datetime.date, share: float) -> datetime.date:
        return start + datetime.timedelta(days=int((end - start).days * share))

    def contract(self, contract: Contract) -> None:
        if contract.status not in OWING or contract.amount <= 0 or contract.nature not in OBLIGATIONS:
            return
        rng, today = self.rng, self.today
        start = contract.effective_date or contract.signing_date or today
        end = contract.expiry_date or start + datetime.timedelta(days=365)
        finished = contract.status == Status.COMPLETED
        obligations = []
        for text, party, share in OBLIGATIONS[contract.nature]:
            obligation = finance.obligation_create(actor=contract.owner, contract=contract, data={
                "description": text, "party": party, "due_date": self._day(start, end, share),
                "owner": contract.owner if party == "ours" else None})
            obligations.append(obligation)
        shares, after_acceptance = rng.choice(PLAN_SHAPES)
        amounts = split_by_shares(contract.amount, [Decimal(s) for s in shares], contract.currency)
        acceptance = obligations[1]
        rows = []
        for index, amount in enumerate(amounts):
            if index == after_acceptance:
                rows.append({"amount": amount, "obligation": acceptance.pk, "days_after": 30,
                             "condition": "验收合格后 30 日内"})
            else:
                due = start + datetime.timedelta(days=15) if index == 0 else self._day(start, end, (index + 1) / (
                    len(amounts) + 1))
                rows.append({"amount": amount, "due_date": due,
                             "condition": "合同签订后 15 日内" if index == 0 else ("质保金" if shares[index] <= 10 else "")})
        finance.payment_plan_save(actor=self.finance, contract=contract, installments=rows, expected_version=None)
        for obligation in obligations:
            if obligation.due_date <= today and (finished or rng.random() < 0.8):
                done_on = min(obligation.due_date + datetime.timedelta(days=rng.randint(-3, 10)), today)
                finance.obligation_complete(actor=self.finance, obligation=obligation, done_on=done_on)
        self._invoices(contract)
        for installment in contract.installments.order_by("due_date", "position"):
            due = installment.due_date
            if due is None or due > today:
                continue
            roll = rng.random()
            if not finished and roll < 0.2:
                break  # the customer stopped paying here: this one and the later ones are overdue
            paid_on = min(due + datetime.timedelta(days=rng.randint(-5, 25)), today)
            amount = installment.outstanding
            partly = not finished and roll < 0.3
            if partly:
                amount = quantize_money(amount / 2, contract.currency)
            finance.payment_record(actor=self.finance, contract=contract, allocations={installment.pk: amount},
                                   data={"amount": amount, "received_on": paid_on, "payer": contract.customer.name,
                                         "bank_reference": f"HX{paid_on:%Y%m%d}{rng.randint(1000, 9999)}"})
            if partly:
                break


def _read_old_notifications() -> None:
    """Building the demo sent what its history would have (tasks, outcomes): all of it read, but the
    tasks still waiting for their approver."""
    waiting = {(recipient, f"/contracts/{contract}/#approval") for recipient, contract in
               ApprovalTask.objects.filter(status="open").values_list("assignee_id", "contract_id")}
    now = timezone.now()
    unread = [n.pk for n in Notification.objects.filter(read_at__isnull=True).only("recipient_id", "url", "kind")
              if n.kind == "approval.task" and (n.recipient_id, n.url) in waiting]
    Notification.objects.filter(read_at__isnull=True).exclude(pk__in=unread).update(read_at=now)


def load_demo(*, seed: int = 2026, today: datetime.date | None = None) -> DemoResult:
    """Create the demo company. Call only when `demo_loaded()` is false."""
    rng = random.Random(seed)
    builder = _Builder(rng, today or timezone.localdate())
    with transaction.atomic():
        logins = builder.people()
        builder.customers_and_contacts()
        builder.contracts_and_communications()
        money = _Money(builder)
        for contract in builder.contracts:
            money.contract(contract)
    _read_old_notifications()
    write_logins(logins)
    return DemoResult(created=True, logins=logins, counts={
        "users": len(builder.users), "customers": len(builder.customers), "contracts": len(builder.contracts),
    })
