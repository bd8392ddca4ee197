"""The pre-review rules over real contract wording in Chinese and English: the clauses present are
found with their page and an excerpt, the absent ones are reported, risky terms are caught only
beyond their limits, and the contract's own facts are checked. Pure: no database."""

import pytest

from qiyue.workflow.prereview import DEFAULT_RULES, Rule, check_facts, check_text, worst

CHINESE = [
    "买卖合同\n甲方：上海明德精密机械有限公司\n乙方：苏州华鑫电子有限公司\n第一条 标的与价款\n"
    "乙方向甲方供应伺服电机 200 台，合同总价款人民币 1,250,000.00 元。\n",
    "第二条 付款方式\n甲方应于验收合格后 30 日内支付全部价款。\n第三条 交付与验收\n"
    "乙方应于 2026 年 3 月 1 日前交付至甲方工厂，甲方收货后 7 日内完成验收。\n"
    "第四条 违约责任\n任何一方违约的，应赔偿对方因此遭受的全部损失；逾期交货的，按日支付合同总价 0.05% 的违约金。\n",
    "第五条 争议解决\n因本合同引起的争议，双方协商解决；协商不成的，提交上海仲裁委员会仲裁。\n"
    "第六条 保密\n双方对本合同内容负有保密义务。\n第七条 不可抗力\n因不可抗力不能履行的，部分或全部免除责任。\n",
]
ENGLISH = (
    "SUPPLY AGREEMENT\n1. Payment. The Buyer shall pay each invoice within 45 days of receipt.\n"
    "2. Confidentiality. Each party shall keep the other's Confidential Information secret.\n"
    "3. Force Majeure. Neither party is liable for delay caused by force majeure.\n"
    "4. Governing law. This Agreement is governed by the laws of England; disputes shall be submitted to "
    "the courts of London.\n5. Liability. The Supplier's liability shall not be limited in any way.\n"
)


def _by_rule(findings):
    return {f.rule: f for f in findings}


def _pages(pages):
    starts, text = [], ""
    for page in pages:
        starts.append(len(text))
        text += page
    return text, starts


def test_chinese_clauses_are_found_with_their_page():
    text, starts = _pages(CHINESE)
    found = _by_rule(check_text(DEFAULT_RULES, text, starts, nature="sales"))
    for key in ("clause.liability", "clause.payment", "clause.acceptance", "clause.disputes",
                "clause.confidentiality", "clause.force_majeure"):
        assert found[key].found and found[key].severity == "info", key
    assert found["clause.liability"].page == 2 and "违约责任" in found["clause.liability"].excerpt
    assert found["clause.disputes"].page == 3
    # Not in the text: reported, at the rule's severity.
    assert not found["clause.ip"].found and found["clause.ip"].severity == "low"
    assert not found["clause.termination"].found
    # Within the limits: 30 days to pay, 0.05% a day, arbitration in Shanghai (ours).
    assert {"risk.late_payment", "risk.high_damages", "risk.foreign_jurisdiction"}.isdisjoint(found)


def test_english_wording_and_risks_beyond_their_limits():
    rules = [*DEFAULT_RULES[:-2], Rule("risk.late_payment", "risk", "medium", "付款期限", "Late payment",
                                       (r"\bwithin\s+(\d+)\s+days\b",), params={"max_days": 30})]
    found = _by_rule(check_text(rules, ENGLISH, nature="purchase"))
    assert found["clause.payment"].found and found["clause.confidentiality"].found
    assert found["clause.disputes"].found and found["clause.force_majeure"].found
    assert found["risk.late_payment"].value == "45" and found["risk.late_payment"].severity == "medium"
    assert found["risk.foreign_jurisdiction"].value.strip() == "London"
    assert found["risk.unlimited_liability"].found and found["risk.unlimited_liability"].severity == "high"
    assert worst(found.values()) == "high"


@pytest.mark.parametrize(("wording", "beyond"), [
    ("逾期付款的，按未付金额的 50% 支付违约金。", True),
    ("违约金为合同总价的 10%。", False),
    ("甲方应在收到发票后 120 天内付款。", True),
    ("甲方应在收到发票后 60 天内付款。", False),
    ("合同期满自动续期。", True),
    ("合同期满自动续期，任何一方可提前 30 日书面通知不再续期。", False),
    ("因本合同发生的争议，提交北京市朝阳区人民法院诉讼解决。", True),
    ("乙方有权单方解除本合同。", True),
])
def test_risky_terms_and_their_limits(wording, beyond):
    risks = [f for f in check_text(DEFAULT_RULES, wording) if f.kind == "risk"]
    assert bool(risks) == beyond, risks


def test_full_width_digits_are_read_as_digits():
    (finding,) = [f for f in check_text(DEFAULT_RULES, "违约金为合同总价的５０％。") if f.kind == "risk"]
    assert finding.rule == "risk.high_damages" and finding.value == "50"


def test_rules_for_other_natures_are_left_out():
    rule = Rule("clause.lease_deposit", "clause", "high", "押金", "Deposit", (r"押金",), natures=("lease",))
    assert check_text([rule], "无押金条款", nature="sales") == []
    (finding,) = check_text([rule], "租赁期间不退还押金", nature="lease")
    assert finding.found


def test_the_contracts_own_facts():
    found = _by_rule(check_facts(DEFAULT_RULES, {"expiry_date": None, "open_ended": False, "auto_renewal": True,
                                                 "notice_period_days": None}))
    assert set(found) == {"fact.no_expiry_date", "fact.renewal_without_notice"}
    assert check_facts(DEFAULT_RULES, {"expiry_date": "2027-01-01", "auto_renewal": True,
                                       "notice_period_days": 30}) == []
    over = Rule("fact.amount", "fact", "high", "超出权限", "Over the limit", params={"check": "amount_over_limit",
                                                                                   "limit": "1000000"})
    assert check_facts([over], {"amount": "1250000.00"})[0].value == "1250000.00"
    assert check_facts([over], {"amount": "999999.99"}) == []


def test_a_broken_rule_is_refused_when_made():
    with pytest.raises(Exception, match="unterminated|missing"):
        Rule("x", "risk", "high", "x", "x", ("(未闭合",))
    with pytest.raises(ValueError):
        Rule("x", "risk", "urgent", "x", "x")
    with pytest.raises(ValueError):
        Rule("x", "fact", "high", "x", "x")
