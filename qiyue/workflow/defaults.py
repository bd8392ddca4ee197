"""What a fresh install starts with, installed by the migrations (administrators change it in the UI):
the default approval flow and the default pre-review rules. Written against the models passed in, so a
migration uses its historical models and tests their current ones."""

from .prereview import DEFAULT_RULES

# The owner's team manager, then legal with the checklist, then finance for contracts of 100,000 CNY or more.
DEFAULT_STEPS = [
    {"name_zh": "主管审批", "name_en": "Manager approval", "mode": "any", "review": "",
     "approvers": [{"type": "relation", "value": "team_manager"}], "when": []},
    {"name_zh": "法务审核", "name_en": "Legal review", "mode": "any", "review": "legal",
     "approvers": [{"type": "role", "value": "legal"}], "when": []},
    {"name_zh": "财务审核", "name_en": "Finance review", "mode": "any", "review": "finance",
     "approvers": [{"type": "role", "value": "finance"}],
     "when": [{"field": "amount_cny", "op": "gte", "value": "100000"}]},
]


def install_default_flow(flow_model, version_model) -> None:
    if flow_model.objects.exists():
        return
    flow = flow_model.objects.create(name_zh="标准审批", name_en="Standard approval", is_default=True,
                                     description="", position=1000)
    flow.current = version_model.objects.create(flow=flow, number=1, steps=DEFAULT_STEPS)
    flow.save(update_fields=["current"])


def install_default_rules(rule_model, keys=None) -> None:
    """The default pre-review rules (those of `keys`, or all) not there yet."""
    last = rule_model.objects.order_by("-position").values_list("position", flat=True).first()
    start = 0 if last is None else last + 1
    rule_model.objects.bulk_create([
        rule_model(key=rule.key, kind=rule.kind, severity=rule.severity, label_zh=rule.label_zh,
                   label_en=rule.label_en, patterns=list(rule.patterns), natures=list(rule.natures),
                   params=dict(rule.params), position=start + n)
        for n, rule in enumerate(r for r in DEFAULT_RULES if keys is None or r.key in keys)], ignore_conflicts=True)
