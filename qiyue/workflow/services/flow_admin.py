"""What administrators configure: approval flows (checked when saved, versioned) and exchange rates."""

import re
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.contracts.models import ContractType, ExchangeRate, Nature, SigningForm, SubjectMatter
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.roles import Role
from qiyue.core.validators import ISO_4217
from qiyue.customers.models import CustomerLevel

from .. import approvers, events, flows, policies, prereview
from ..errors import WorkflowErrorCode
from ..models import ApprovalFlow, ApprovalFlowVersion, PreReviewRule

User = get_user_model()

# What each problem flows.py names means, in the admin's language.
MESSAGES = {
    "required": gettext_lazy("This field is required."),
    "name_type": gettext_lazy("Enter text."),
    "name_long": gettext_lazy("At most 100 characters."),
    "steps_missing": gettext_lazy("A flow needs at least one step."),
    "steps_many": gettext_lazy("A flow has at most 20 steps."),
    "step_shape": gettext_lazy("Each step is an object with a name, a mode and approvers."),
    "mode": gettext_lazy("Choose “any of them” or “all of them”."),
    "review": gettext_lazy("Choose no checklist, legal review or finance review."),
    "approvers_missing": gettext_lazy("Name at least one approver: a role, a relation or a person."),
    "approvers_many": gettext_lazy("At most 50 approvers per step."),
    "approver_shape": gettext_lazy("An approver is a role, a relation to the contract or a person."),
    "approver_role": gettext_lazy("Choose a reviewing role: administrator, manager, legal or finance."),
    "approver_relation": gettext_lazy("Choose a relation: the team's manager, the owner's superior or the "
                                      "superior's superior."),
    "approver_user": gettext_lazy("Choose an existing user."),
    "approver_twice": gettext_lazy("The same approver is named twice."),
    "approver_impossible": gettext_lazy("Nobody could ever approve as this approver (no active user with a "
                                        "reviewing role fits): the step would have no approver."),
    "conditions_shape": gettext_lazy("Conditions are a list of at most 20."),
    "condition_shape": gettext_lazy("A condition names a field, an operator and a value."),
    "condition_field": gettext_lazy("Choose what the condition tests."),
    "condition_amount": gettext_lazy("An amount condition is “at least” or “below” an amount of 0 or more."),
    "condition_risk": gettext_lazy("A risk condition is “at least” or “below” low, medium or high."),
    "condition_supplement": gettext_lazy("Say yes or no."),
    "condition_choices": gettext_lazy("Choose one or more values."),
    "condition_choice_unknown": gettext_lazy("One of the values chosen does not exist."),
    "amount_range": gettext_lazy("No amount is both at least the lower and below the upper limit: this step "
                                 "could never run."),
    "risk_range": gettext_lazy("No risk level fits these limits: this step could never run."),
    "supplement_both": gettext_lazy("A contract cannot both be and not be a supplement: this step could "
                                    "never run."),
    "choices_empty": gettext_lazy("No value is left that these conditions allow: this step could never run."),
    "never_with_flow": gettext_lazy("Its conditions contradict the flow's own: this step could never run."),
}

FLOW_FIELDS = ("name_zh", "name_en", "description", "position", "is_default", "active", "conditions")


def choices() -> dict[str, set]:
    """The values each choice condition may name."""
    return {
        "nature": set(Nature.values), "subject_matter": set(SubjectMatter.values),
        "signing_form": set(SigningForm.values), "customer_level": set(CustomerLevel.values),
        "contract_type": set(ContractType.objects.values_list("pk", flat=True)),
    }


def _message(key: str) -> str:
    return str(MESSAGES.get(key, key))


def _invalid(errors: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(WorkflowErrorCode.FLOW_INVALID, _("The flow cannot be saved: correct the errors below."),
                            fields={path: [_message(k) for k in keys] for path, keys in errors.items()})


def _clean_text(data, key: str, errors: dict, *, limit: int, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(key, []).append("name_type")
        return ""
    value = value.strip()
    if required and not value:
        errors.setdefault(key, []).append("required")
    if len(value) > limit:
        errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


def clean_flow(data: dict) -> tuple[dict, list[dict]]:
    """The flow's fields and its steps, checked: ApplicationError(flow_invalid) naming every problem."""
    errors: dict[str, list] = {}
    values = {
        "name_zh": _clean_text(data, "name_zh", errors, limit=100, required=True),
        "name_en": _clean_text(data, "name_en", errors, limit=100),
        "description": _clean_text(data, "description", errors, limit=500),
    }
    position = data.get("position", 100)
    if isinstance(position, bool) or not isinstance(position, int | str) or not str(position).isdigit() \
            or int(position) > 10000:
        errors["position"] = [_("A whole number from 0 to 10000.")]
    else:
        values["position"] = int(position)
    for key in ("is_default", "active"):
        value = data.get(key, key == "active")
        if not isinstance(value, bool):
            errors[key] = [_("Say true or false.")]
        values[key] = bool(value)
    allowed = choices()
    values["conditions"] = flows.clean_conditions(data.get("conditions"), "conditions", errors, choices=allowed)
    if values["is_default"] and values["conditions"]:
        errors.setdefault("conditions", []).append(
            _("The default flow applies when no other does: it has no conditions."))
    if values["is_default"] and not values["active"]:
        errors.setdefault("active", []).append(_("The default flow must stay in use."))
    roles = {Role.ADMIN, Role.MANAGER, Role.LEGAL, Role.FINANCE}
    users = set(User.objects.filter(role__in=roles).values_list("pk", flat=True))
    steps, step_errors = flows.clean_steps(data.get("steps"), roles={str(r) for r in roles}, users=users,
                                           choices=allowed)
    for path, keys in step_errors.items():
        errors.setdefault(path, []).extend(keys)
    for n, step in enumerate(steps):
        for approver in step["approvers"]:
            if not approvers.could_approve_anything(approver):
                errors.setdefault(f"steps.{n}.approvers", []).append("approver_impossible")
        if step["when"] and values["conditions"] and f"steps.{n}.when" not in errors \
                and flows.contradiction([*values["conditions"], *step["when"]]):
            errors.setdefault(f"steps.{n}.when", []).append("never_with_flow")
    if errors:
        raise _invalid(errors)
    return values, steps


@transaction.atomic
def flow_save(*, actor, flow: ApprovalFlow | None, data: dict, expected_version: int | None = None) -> ApprovalFlow:
    """Create a flow or change one. Changed steps become a new version; approvals under way keep
    theirs. Making a flow the default takes that from the one before."""
    if not policies.can_manage_flows(actor):
        raise permission_denied()
    created = flow is None
    if not created:
        flow = ApprovalFlow.objects.select_for_update(of=("self",)).select_related("current").get(pk=flow.pk)
        if expected_version is not None and expected_version != flow.version:
            raise stale_version_error()
    merged = {} if created else {
        "name_zh": flow.name_zh, "name_en": flow.name_en, "description": flow.description, "position": flow.position,
        "is_default": flow.is_default, "active": flow.active, "conditions": flow.conditions,
        "steps": flow.current.steps if flow.current else []}
    merged.update(data)
    values, steps = clean_flow(merged)
    if not created and flow.is_default and not values["is_default"]:
        raise ApplicationError(WorkflowErrorCode.FLOW_INVALID, _("The flow cannot be saved: correct the errors below."),
                               fields={"is_default": [_("Make another flow the default instead.")]})
    if values["is_default"]:
        ApprovalFlow.objects.filter(is_default=True).exclude(pk=getattr(flow, "pk", None)).update(is_default=False)
    if created:
        flow = ApprovalFlow()
    changes = {}
    for key, value in values.items():
        old = None if created else getattr(flow, key)
        if old != value:
            changes[key] = [old, value]
            setattr(flow, key, value)
    steps_changed = created or flow.current is None or flow.current.steps != steps
    if not changes and not steps_changed:
        return flow
    flow.version = 1 if created else flow.version + 1
    flow.save()
    if steps_changed:
        number = (flow.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        flow.current = ApprovalFlowVersion.objects.create(flow=flow, number=number, steps=steps,
                                                          created_by=actor if getattr(actor, "pk", None) else None)
        flow.save(update_fields=["current"])
        changes["flow_version"] = [number - 1 or None, number]
        changes["steps"] = [len(steps)]
    events.flow_event(actor=actor, flow=flow, created=created, changes=changes)
    return flow


@transaction.atomic
def exchange_rate_save(*, actor, data: dict) -> ExchangeRate:
    """Set how many CNY one unit of a currency is worth from a day on (the same day again: changed)."""
    if not policies.can_manage_flows(actor):
        raise permission_denied()
    errors = {}
    currency = str(data.get("currency") or "").strip().upper()
    if currency not in ISO_4217 or currency == "CNY":
        errors["currency"] = [_("Choose a currency other than CNY.")]
    try:
        rate = Decimal(str(data.get("rate")))
        if not rate.is_finite() or rate >= Decimal("1e12"):
            raise InvalidOperation
        rate = rate.quantize(Decimal("0.000001"))
        if rate <= 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors["rate"] = [_("Enter a number greater than 0.")]
        rate = None
    valid_from = data.get("valid_from")
    if not hasattr(valid_from, "isoformat"):
        errors["valid_from"] = [_("Enter a date.")]
    if errors:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=errors)
    row, created = ExchangeRate.objects.select_for_update().get_or_create(
        currency=currency, valid_from=valid_from, defaults={"rate": rate})
    before = None if created else str(row.rate)
    if not created:
        row.rate = rate
    row.full_clean()
    row.save()
    events.approval_settings_event(actor=actor, target=row, action="exchange_rate.saved",
                                   changes={"rate": [before, str(rate)]})
    return row


# --- Pre-review rules --------------------------------------------------------------------------------

RULE_FIELDS = ("label_zh", "label_en", "severity", "patterns", "natures", "params", "active", "position")
MAX_PATTERNS = 30
MAX_PATTERN_CHARS = 300


def _clean_params(kind: str, raw, errors: dict) -> dict:
    """The limits a rule may carry, by kind (see prereview.py); anything else is refused."""
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        errors["params"] = [_("Limits are an object.")]
        return {}
    params = {}
    allowed = {"clause": set(), "risk": {"max_days", "max_percent", "ours"},
               "fact": {"check", "limit", "limits"}}[kind]
    unknown = set(raw) - allowed
    if unknown:
        errors["params"] = [_("Unknown limits: %(keys)s.") % {"keys": ", ".join(sorted(map(str, unknown)))}]
    for key, top in (("max_days", 3650), ("max_percent", 100)):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float | str) \
                    or not str(value).replace(".", "", 1).isdigit() or not 0 <= float(value) <= top:
                errors[key] = [_("A number from 0 to %(top)d.") % {"top": top}]
            else:
                params[key] = int(value) if float(value).is_integer() else float(value)
    if "max_days" in params and "max_percent" in params:
        errors["params"] = [_("A rule checks days or a percentage, not both.")]
    if "ours" in raw:
        ours = raw["ours"]
        if not isinstance(ours, list) or not ours or len(ours) > 20 or not all(
                isinstance(p, str) and 0 < len(p.strip()) <= 50 for p in ours):
            errors["ours"] = [_("Name 1 to 20 places of at most 50 characters.")]
        else:
            params["ours"] = [p.strip() for p in ours]
    if kind == "fact":
        if raw.get("check") not in prereview.FACT_CHECKS:
            errors["check"] = [_("Choose what the rule checks.")]
        else:
            params["check"] = raw["check"]
        for key in ("limit",):
            if raw.get(key) not in (None, ""):
                number = flows._number(raw[key])
                if number is None:
                    errors[key] = [_("Enter an amount of 0 or more.")]
                else:
                    params[key] = int(number) if number == number.to_integral_value() else float(number)
        limits = raw.get("limits") or {}
        if not isinstance(limits, dict) or any(r not in Role.values or flows._number(v) is None
                                               for r, v in limits.items()):
            errors["limits"] = [_("Limits per role are {role: amount}.")]
        elif limits:
            params["limits"] = {r: float(flows._number(v)) for r, v in limits.items()}
    return params


def clean_rule(data: dict, *, kind: str) -> dict:
    errors: dict[str, list] = {}
    values = {"label_zh": _clean_text(data, "label_zh", errors, limit=100, required=True),
              "label_en": _clean_text(data, "label_en", errors, limit=100)}
    for key in list(errors):
        errors[key] = [_message(k) if isinstance(k, str) and k in MESSAGES else k for k in errors[key]]
    values["severity"] = data.get("severity")
    if values["severity"] not in prereview.SEVERITIES or values["severity"] == "info":
        errors["severity"] = [_("Choose high, medium or low.")]
    patterns = data.get("patterns") or []
    if isinstance(patterns, str):
        patterns = [line.strip() for line in patterns.splitlines() if line.strip()]
    if not isinstance(patterns, list) or len(patterns) > MAX_PATTERNS or not all(
            isinstance(p, str) and 0 < len(p) <= MAX_PATTERN_CHARS for p in patterns):
        errors["patterns"] = [_("At most %(n)d patterns of at most %(chars)d characters.") % {
            "n": MAX_PATTERNS, "chars": MAX_PATTERN_CHARS}]
        patterns = []
    for n, pattern in enumerate(patterns, start=1):
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.setdefault("patterns", []).append(_("Line %(n)d is not a valid regular expression: %(error)s.")
                                                     % {"n": n, "error": exc})
    if kind in ("clause", "risk") and not patterns and "patterns" not in errors:
        errors["patterns"] = [_("Give at least one keyword or regular expression.")]
    values["patterns"] = patterns
    natures = data.get("natures") or []
    if not isinstance(natures, list) or any(n not in Nature.values for n in natures):
        errors["natures"] = [_("Choose contract natures.")]
        natures = []
    values["natures"] = list(dict.fromkeys(natures))
    values["params"] = _clean_params(kind, data.get("params"), errors)
    active = data.get("active", True)
    if not isinstance(active, bool):
        errors["active"] = [_("Say true or false.")]
    values["active"] = bool(active)
    position = data.get("position", 0)
    if isinstance(position, bool) or not str(position).isdigit() or int(position) > 10000:
        errors["position"] = [_("A whole number from 0 to 10000.")]
    else:
        values["position"] = int(position)
    if errors:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=errors)
    return values


@transaction.atomic
def prereview_rule_save(*, actor, rule: PreReviewRule | None, data: dict) -> PreReviewRule:
    """Create a pre-review rule (clause, risk or fact) or change one; its key and kind never change."""
    if not policies.can_manage_flows(actor):
        raise permission_denied()
    created = rule is None
    if created:
        key = str(data.get("key") or "").strip()
        kind = data.get("kind")
        errors = {}
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,59}", key):
            errors["key"] = [_("Letters a–z, digits, dots, dashes: 2 to 60 characters.")]
        elif PreReviewRule.objects.filter(key=key).exists():
            errors["key"] = [_("A rule with this key exists already.")]
        if kind not in prereview.KINDS:
            errors["kind"] = [_("Choose clause, risk or fact.")]
        if errors:
            raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=errors)
        rule = PreReviewRule(key=key, kind=kind)
        merged = dict(data)
    else:
        rule = PreReviewRule.objects.select_for_update().get(pk=rule.pk)
        merged = {name: getattr(rule, name) for name in RULE_FIELDS}
        merged.update({k: v for k, v in data.items() if k in RULE_FIELDS})
    values = clean_rule(merged, kind=rule.kind)
    changes = {}
    for key, value in values.items():
        old = None if created else getattr(rule, key)
        if old != value:
            changes[key] = [old, value]
            setattr(rule, key, value)
    if not changes and not created:
        return rule
    try:
        rule.as_rule()
    except (ValueError, re.error) as exc:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"params": [str(exc)]}) from exc
    rule.save()
    events.approval_settings_event(actor=actor, target=rule, action="prereview_rule.saved", changes=changes)
    return rule
