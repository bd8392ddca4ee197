"""The automated pre-review: running the rules over a contract and keeping what they found."""

import logging
import re

from django.db import transaction

from qiyue.contracts import selectors as contract_selectors
from qiyue.core.errors import permission_denied
from qiyue.documents.selectors import contract_main_text

from .. import events, policies, prereview
from ..models import PreReviewRule, PreReviewRun
from ..selectors import prereview_rules

logger = logging.getLogger(__name__)


def _facts(contract) -> dict:
    in_cny = contract_selectors.amount_in_cny(contract)
    return {"expiry_date": contract.expiry_date, "open_ended": contract.open_ended,
            "auto_renewal": contract.auto_renewal, "notice_period_days": contract.notice_period_days,
            "amount": in_cny if in_cny is not None else contract.amount, "rate_known": in_cny is not None,
            "currency": contract.currency, "owner_role": contract.owner.role, "nature": contract.nature}


def _as_dict(finding: prereview.Finding, rule: PreReviewRule) -> dict:
    return {"rule": finding.rule, "kind": finding.kind, "severity": finding.severity, "found": finding.found,
            "excerpt": finding.excerpt, "page": finding.page, "value": finding.value,
            "label_zh": rule.label_zh, "label_en": rule.label_en,
            "unit": "percent" if "max_percent" in rule.params else "days" if "max_days" in rule.params
            else "amount" if rule.params.get("check") == "amount_over_limit" else ""}


@transaction.atomic
def prereview_run(*, actor, contract, trigger: str = "manual") -> PreReviewRun:
    """Run the rules in use over the contract's facts and its own text (its newest signed copy, else
    its newest draft); keep and audit what they found."""
    if trigger == "manual" and not policies.can_run_prereview(actor, contract):
        raise permission_denied()
    rows, rules = {}, []
    for row in prereview_rules():
        try:
            rules.append(row.as_rule())
        except (ValueError, re.error) as exc:  # a rule broken outside the app must not block a submission
            logger.warning("pre-review rule %s left out: %s", row.key, exc)
            continue
        rows[row.key] = row
    findings = prereview.check_facts(rules, _facts(contract))
    main = contract_main_text(contract=contract)
    version = None
    if main is not None:
        _document, version, text, pages = main
        findings += prereview.check_text(rules, text, pages, nature=contract.nature)
    run = PreReviewRun.objects.create(
        contract=contract, document_version=version, ran_by=actor if getattr(actor, "pk", None) else None,
        trigger=trigger, risk_level=prereview.worst(findings),
        findings=[_as_dict(f, rows[f.rule]) for f in findings])
    problems = [f.rule for f in findings if f.severity != "info"]
    events.contract_prereviewed_event(actor=actor, contract=contract, risk_level=run.risk_level, problems=problems)
    return run
