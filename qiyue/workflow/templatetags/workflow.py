"""Review and approval's parts of the contract workspace: the pre-review panel of the approval tab."""

from django import template
from django.utils.translation import get_language

from .. import policies, selectors

register = template.Library()


@register.inclusion_tag("workflow/_prereview_panel.html", takes_context=True)
def prereview_panel(context, contract):
    run = selectors.latest_prereview(contract=contract)
    chinese = (get_language() or "").startswith("zh")
    findings = []
    for finding in run.findings if run else []:
        findings.append({**finding, "label": finding["label_zh"] if chinese else finding["label_en"]})
    # Problems first (most severe first), then the clauses found.
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    findings.sort(key=lambda f: (order.get(f["severity"], 9), f["label"]))
    return {"contract": contract, "run": run, "findings": findings,
            "problems": sum(1 for f in findings if f["severity"] != "info"),
            "can_run": policies.can_run_prereview(context["request"].user, contract)}
