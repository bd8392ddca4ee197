"""Automated pre-review (R4.3): rules run over a contract's facts and its current document's text.

Pure: no database. A rule is data (keywords and regular expressions in both languages, the natures it
applies to, its severity and limits), so the rule set an administrator edits is rows, not code
branches; DEFAULT_RULES is the set a migration installs. Three kinds of rule:

- `clause`: a clause the contract should have (违约责任, 争议解决 …). Found: a finding that says where;
  not found: a finding of the rule's severity that says so.
- `risk`: a term that should not be there (unlimited liability …). Each rule with a limit
  (`max_days`, `max_percent`, `ours`) checks the number or the place it captured against the limit.
- `fact`: a check of the contract's own facts (no expiry date, automatic renewal without notice …).

Text is matched after NFKC normalisation (full-width digits and letters become ASCII) and
case-insensitively; each finding carries an excerpt and the page it is on.
"""

import bisect
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

SEVERITIES = ("high", "medium", "low", "info")
KINDS = ("clause", "risk", "fact")
FACT_CHECKS = ("no_expiry_date", "renewal_without_notice", "amount_over_limit", "currency_without_rate")
EXCERPT_CHARS = 40  # on each side of a match


@dataclass(frozen=True)
class Rule:
    key: str
    kind: str  # clause | risk | fact
    severity: str
    label_zh: str
    label_en: str
    patterns: tuple[str, ...] = ()  # regular expressions; any one matching counts
    natures: tuple[str, ...] = ()  # the contract natures it applies to; empty: all
    # max_days, max_percent, ours (risk rules); check, limit, limits (fact rules: see check_facts)
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS or self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.key}: unknown kind {self.kind!r} or severity {self.severity!r}")
        for pattern in self.patterns:
            re.compile(pattern)  # a broken expression is refused when the rule is saved
        if self.kind == "fact" and self.params.get("check") not in FACT_CHECKS:
            raise ValueError(f"rule {self.key}: a fact rule needs params.check, one of {FACT_CHECKS}")


@dataclass(frozen=True)
class Finding:
    rule: str
    kind: str
    severity: str  # "info" for a clause found
    found: bool  # the clause or term is in the text (for a fact: the problem is there)
    excerpt: str = ""
    page: int | None = None
    value: str = ""  # what a limit was checked against (days, percent, a place)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _page_of(offset: int, page_starts: list[int]) -> int:
    return bisect.bisect_right(page_starts, offset) if page_starts else 1


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT_CHARS), min(len(text), end + EXCERPT_CHARS)
    snippet = " ".join(text[left:right].split())
    return ("…" if left else "") + snippet + ("…" if right < len(text) else "")


def _matches(rule: Rule, text: str) -> Iterable[re.Match]:
    for pattern in rule.patterns:
        yield from re.finditer(pattern, text, flags=re.IGNORECASE)


def _number(match: re.Match) -> Decimal | None:
    for group in match.groups():
        if group:
            try:
                return Decimal(group)
            except InvalidOperation:
                continue
    return None


def _beyond_limit(rule: Rule, match: re.Match) -> tuple[bool, str]:
    """Whether a risk rule's match is beyond its limit (a rule without a limit: every match is)."""
    params = rule.params
    if "max_days" in params or "max_percent" in params:
        number = _number(match)
        limit = Decimal(str(params.get("max_days", params.get("max_percent"))))
        return (number is not None and number > limit), ("" if number is None else str(number))
    if "ours" in params:
        place = next((g for g in match.groups() if g), match.group(0))
        return not any(ours in place for ours in params["ours"]), place
    return True, ""


def check_text(rules: Iterable[Rule], text: str, page_starts: list[int] | None = None, *,
               nature: str = "") -> list[Finding]:
    """The clause and risk rules (for this nature) over a document's text."""
    text = normalize(text)
    starts = sorted(page_starts or [0])
    findings = []
    for rule in rules:
        if rule.kind == "fact" or (rule.natures and nature not in rule.natures):
            continue
        if rule.kind == "clause":
            match = next(iter(_matches(rule, text)), None)
            if match is None:
                findings.append(Finding(rule.key, rule.kind, rule.severity, found=False))
            else:
                findings.append(Finding(rule.key, rule.kind, "info", found=True,
                                        excerpt=_excerpt(text, match.start(), match.end()),
                                        page=_page_of(match.start(), starts)))
            continue
        for match in _matches(rule, text):
            beyond, value = _beyond_limit(rule, match)
            if beyond:
                findings.append(Finding(rule.key, rule.kind, rule.severity, found=True,
                                        excerpt=_excerpt(text, match.start(), match.end()),
                                        page=_page_of(match.start(), starts), value=value))
                break  # one finding per rule: the first place is enough to look at
    return findings


def check_facts(rules: Iterable[Rule], facts: Mapping) -> list[Finding]:
    """The fact rules over a contract's facts: `expiry_date`, `open_ended`, `auto_renewal`,
    `notice_period_days`, `amount` (in CNY when a rate is known, else as written), `rate_known`,
    `owner_role`, `nature`. `amount_over_limit` compares the amount with the limit for the owner's role
    (`params.limits`, {role: amount}), else `params.limit`."""
    findings = []
    for rule in rules:
        if rule.kind != "fact" or (rule.natures and facts.get("nature", "") not in rule.natures):
            continue
        check = rule.params["check"]
        if check == "no_expiry_date":
            problem = not facts.get("expiry_date") and not facts.get("open_ended")
            value = ""
        elif check == "renewal_without_notice":
            problem = bool(facts.get("auto_renewal")) and not facts.get("notice_period_days")
            value = ""
        elif check == "currency_without_rate":
            problem = facts.get("rate_known") is False
            value = str(facts.get("currency", ""))
        else:  # amount_over_limit
            amount = facts.get("amount")
            limit = (rule.params.get("limits") or {}).get(facts.get("owner_role", ""), rule.params.get("limit"))
            problem = amount is not None and limit is not None and Decimal(str(amount)) > Decimal(str(limit))
            value = "" if amount is None else str(amount)
        if problem:
            findings.append(Finding(rule.key, rule.kind, rule.severity, found=True, value=value))
    return findings


def worst(findings: Iterable[Finding]) -> str:
    """The risk level of a set of findings: its most severe problem's severity, "none" without one."""
    problems = [f.severity for f in findings if f.severity != "info"]
    return min(problems, key=SEVERITIES.index) if problems else "none"


# --- The default rule set (installed as rows by a migration; administrators edit those) -------------

def _clause(key, severity, zh, en, *patterns):
    return Rule(key, "clause", severity, zh, en, tuple(patterns))


DEFAULT_RULES: tuple[Rule, ...] = (
    _clause("clause.liability", "high", "违约责任", "Breach and liability",
            r"违约责任", r"违约金", r"赔偿.{0,6}损失", r"\bliabilit(y|ies)\b", r"\bbreach\b", r"\bdamages\b"),
    _clause("clause.disputes", "high", "争议解决与适用法律", "Dispute resolution and governing law",
            r"争议解决", r"(提交|提请).{0,20}(仲裁|法院)", r"管辖", r"适用.{0,6}法律",
            r"仲裁", r"\bgoverning law\b", r"\barbitration\b", r"\bdispute(s)?\b.{0,80}\bcourts?\b",
            r"\bjurisdiction\b"),
    _clause("clause.payment", "high", "付款条款", "Payment terms",
            r"付款", r"支付.{0,10}(款|费用|价款)", r"\bpayment\b", r"\binvoice\b"),
    _clause("clause.confidentiality", "medium", "保密", "Confidentiality",
            r"保密", r"\bconfidential(ity)?\b"),
    _clause("clause.force_majeure", "medium", "不可抗力", "Force majeure",
            r"不可抗力", r"\bforce majeure\b"),
    _clause("clause.termination", "medium", "解除与终止", "Termination",
            r"解除(本)?合同", r"合同.{0,4}(解除|终止)", r"\bterminat(e|ion)\b"),
    _clause("clause.ip", "low", "知识产权", "Intellectual property",
            r"知识产权", r"\bintellectual property\b"),
    _clause("clause.acceptance", "medium", "交付与验收", "Delivery and acceptance",
            r"验收", r"交付", r"\bacceptance\b", r"\bdeliver(y|ed)?\b"),
    Rule("risk.unlimited_liability", "risk", "high", "无限责任", "Unlimited liability",
         (r"(承担|负).{0,6}无限.{0,4}责任", r"责任.{0,6}不设(上限|限额)", r"\bunlimited liability\b",
          r"\bliability\b.{0,30}\bshall not be limited\b")),
    Rule("risk.renewal_without_notice", "risk", "medium", "自动续期且无通知期", "Automatic renewal without notice",
         (r"自动续(期|约|签)(?!.{0,40}(提前|通知))", r"\bautomatically renew(s|ed)?\b(?!.{0,80}\bnotice\b)")),
    Rule("risk.late_payment", "risk", "medium", "付款期限过长", "Payment later than allowed",
         (r"(\d+)\s*(?:个)?(?:日|天|工作日)\s*内?(?:向.{0,10})?(?:付款|支付)",
          r"(?:付款|支付).{0,20}?(\d+)\s*(?:个)?(?:日|天|工作日)",
          r"\bwithin\s+(\d+)\s+days\b.{0,40}\b(?:pay|payment)", r"\bnet\s+(\d+)\b"),
         params={"max_days": 90}),
    Rule("risk.high_damages", "risk", "high", "违约金比例过高", "Liquidated damages above the limit",
         (r"违约金.{0,30}?(\d+(?:\.\d+)?)\s*%", r"(\d+(?:\.\d+)?)\s*%.{0,20}违约金",
          r"\bliquidated damages\b.{0,40}?(\d+(?:\.\d+)?)\s*%"),
         params={"max_percent": 30}),
    Rule("risk.unilateral_termination", "risk", "high", "对方单方解除权", "Unilateral termination by the counterparty",
         (r"乙方.{0,10}(有权|可以).{0,10}单方.{0,4}(解除|终止)", r"\b(supplier|vendor|licensor|seller)\b.{0,30}"
          r"\bmay terminate\b.{0,40}\bat any time\b")),
    Rule("risk.foreign_jurisdiction", "risk", "medium", "非我方所在地管辖", "Jurisdiction other than ours",
         (r"(?:提交|提请|由)\s*([\u4e00-\u9fa5]{2,12}?)(?:市|区|县)?(?:人民法院|仲裁委员会)",
          r"\bcourts? of ([A-Z][a-zA-Z ]{2,30})", r"\barbitration in ([A-Z][a-zA-Z ]{2,30})"),
         params={"ours": ["上海", "Shanghai"]}),
    Rule("fact.no_expiry_date", "fact", "medium", "缺少到期日期", "No expiry date",
         params={"check": "no_expiry_date"}),
    Rule("fact.renewal_without_notice", "fact", "medium", "自动续期但无通知期", "Automatic renewal without a notice period",
         params={"check": "renewal_without_notice"}),
    Rule("fact.amount_over_limit", "fact", "medium", "金额超出负责人权限", "Amount above the owner's limit",
         params={"check": "amount_over_limit", "limit": 5_000_000, "limits": {"sales": 1_000_000}}),
    Rule("fact.currency_without_rate", "fact", "low", "币种没有汇率", "Currency without an exchange rate",
         params={"check": "currency_without_rate"}),
)
