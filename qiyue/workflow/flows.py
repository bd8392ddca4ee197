"""Approval flows as data, with no database access: what a flow's definition may say, checking it,
and deciding whether a condition holds for a contract's facts.

A flow is an ordered list of steps. A step is

    {"name_zh": "法务审核", "name_en": "Legal review", "mode": "any" | "all", "review": "" | "legal" | "finance",
     "approvers": [{"type": "role" | "relation" | "user", "value": ...}, ...],
     "when": [condition, ...]}

and runs only when every condition of its `when` holds (otherwise it is skipped, and the approval
says which condition did not hold). A flow's own `conditions` choose it for a contract the same way.
A condition is {"field": ..., "op": ..., "value": ...} over the facts `contract_facts` gathers:

    amount_cny       gte | lt      a number (the amount in CNY, at the configured rate)
    nature, subject_matter, signing_form, contract_type, customer_level
                     in | not_in   a list of codes (contract types by id)
    supplement       is            true | false (the contract is a supplement to a framework agreement)
    risk_level       gte | lt      low | medium | high (the pre-review's verdict)

Steps are ordered and a return goes only to an earlier step, chosen when deciding: a definition
cannot express a loop.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MODES = ("any", "all")
REVIEWS = ("", "legal", "finance")
APPROVER_TYPES = ("role", "relation", "user")
# Relations to the contract an approver can be named by.
RELATIONS = ("team_manager", "owner_superior", "owner_superior_2")
CHOICE_FIELDS = ("nature", "subject_matter", "signing_form", "contract_type", "customer_level")
FIELDS = ("amount_cny", *CHOICE_FIELDS, "supplement", "risk_level")
RISK_ORDER = {"none": 0, "info": 0, "low": 1, "medium": 2, "high": 3}
MAX_STEPS = 20
MAX_APPROVERS = 50
MAX_CONDITIONS = 20
MAX_NAME = 100
MAX_AMOUNT = Decimal("1e14")


@dataclass(frozen=True)
class Verdict:
    holds: bool
    # The condition that did not hold (for the "skipped because" line), or None.
    failed: dict | None = None


def _number(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() and Decimal(0) <= number < MAX_AMOUNT else None


def clean_condition(raw, *, choices: dict[str, set]) -> dict:
    """One condition, normalised; ValueError with a message key when it cannot be."""
    if not isinstance(raw, dict):
        raise ValueError("condition_shape")
    field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if field not in FIELDS:
        raise ValueError("condition_field")
    if field == "amount_cny":
        number = _number(value)
        if op not in ("gte", "lt") or number is None:
            raise ValueError("condition_amount")
        return {"field": field, "op": op, "value": str(number)}
    if field == "risk_level":
        if op not in ("gte", "lt") or value not in ("low", "medium", "high"):
            raise ValueError("condition_risk")
        return {"field": field, "op": op, "value": value}
    if field == "supplement":
        if op != "is" or not isinstance(value, bool):
            raise ValueError("condition_supplement")
        return {"field": field, "op": op, "value": value}
    if op not in ("in", "not_in") or not isinstance(value, list) or not value or len(value) > 200:
        raise ValueError("condition_choices")
    allowed = choices.get(field, set())
    values = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ValueError("condition_choice_unknown")
        item = int(item) if field == "contract_type" and isinstance(item, int | str) and str(item).isdigit() else item
        if item not in allowed:
            raise ValueError("condition_choice_unknown")
        if item not in values:
            values.append(item)
    return {"field": field, "op": op, "value": values}


def contradiction(conditions: list[dict]) -> str | None:
    """Why conditions that must all hold can never hold together (a step that could never run), or
    None. Checks what a definition can get wrong: an amount range that is empty, a risk range that is
    empty, choices excluded by another condition on the same field, a supplement both yes and no."""
    low, high = Decimal(0), None
    risk_low, risk_high = 0, 4
    allowed: dict[str, set | None] = {}
    excluded: dict[str, set] = {}
    supplement = set()
    for condition in conditions:
        field, op, value = condition["field"], condition["op"], condition["value"]
        if field == "amount_cny":
            if op == "gte":
                low = max(low, Decimal(value))
            else:
                high = Decimal(value) if high is None else min(high, Decimal(value))
        elif field == "risk_level":
            if op == "gte":
                risk_low = max(risk_low, RISK_ORDER[value])
            else:
                risk_high = min(risk_high, RISK_ORDER[value])
        elif field == "supplement":
            supplement.add(value)
        elif op == "in":
            current = allowed.get(field)
            allowed[field] = set(value) if current is None else current & set(value)
        else:
            excluded.setdefault(field, set()).update(value)
    if high is not None and low >= high:
        return "amount_range"
    if risk_low >= risk_high:
        return "risk_range"
    if len(supplement) > 1:
        return "supplement_both"
    for field, values in allowed.items():
        if values is not None and not (values - excluded.get(field, set())):
            return "choices_empty"
    return None


def holds(condition: dict, facts: dict) -> bool:
    """Whether `condition` holds for `facts`. An amount that cannot be converted to CNY (no rate) is
    unknown: a condition on it holds, so a review is never skipped for want of a rate."""
    field, op, value = condition["field"], condition["op"], condition["value"]
    fact = facts.get(field)
    if field == "amount_cny":
        if fact is None:
            return True
        return fact >= Decimal(value) if op == "gte" else fact < Decimal(value)
    if field == "risk_level":
        level = RISK_ORDER.get(fact or "none", 0)
        return level >= RISK_ORDER[value] if op == "gte" else level < RISK_ORDER[value]
    if field == "supplement":
        return bool(fact) == value
    return (fact in value) if op == "in" else (fact not in value)


def evaluate(conditions: list[dict], facts: dict) -> Verdict:
    for condition in conditions:
        if not holds(condition, facts):
            return Verdict(False, condition)
    return Verdict(True)


def clean_approver(raw, *, roles: set, users: set) -> dict:
    if not isinstance(raw, dict) or raw.get("type") not in APPROVER_TYPES:
        raise ValueError("approver_shape")
    kind, value = raw["type"], raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("approver_shape")
    if kind == "role" and value not in roles:
        raise ValueError("approver_role")
    if kind == "relation" and value not in RELATIONS:
        raise ValueError("approver_relation")
    if kind == "user":
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise ValueError("approver_user")
        value = int(value)
        if value not in users:
            raise ValueError("approver_user")
    return {"type": kind, "value": value}


def _encodable(text: str) -> bool:
    """Text a database can store (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _name(raw, key: str, errors: dict, path: str, *, required: bool) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        errors.setdefault(f"{path}.{key}", []).append("name_type")
        return ""
    value = value.strip()
    if not _encodable(value):
        errors.setdefault(f"{path}.{key}", []).append("name_type")
        return ""
    if required and not value:
        errors.setdefault(f"{path}.{key}", []).append("required")
    if len(value) > MAX_NAME:
        errors.setdefault(f"{path}.{key}", []).append("name_long")
    return value


def clean_conditions(raw, path: str, errors: dict, *, choices: dict[str, set]) -> list[dict]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        errors.setdefault(path, []).append("conditions_shape")
        return []
    cleaned = []
    for n, item in enumerate(raw):
        try:
            cleaned.append(clean_condition(item, choices=choices))
        except ValueError as exc:
            errors.setdefault(f"{path}.{n}", []).append(str(exc))
    if len(cleaned) == len(raw):
        problem = contradiction(cleaned)
        if problem:
            errors.setdefault(path, []).append(problem)
    return cleaned


def clean_steps(raw, *, roles: set, users: set, choices: dict[str, set]) -> tuple[list[dict], dict]:
    """The steps, normalised, and {path: [message key]} of what is wrong (empty when they are good).
    Whether each step has someone who could approve is the caller's (it needs the database)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(raw, list) or not raw:
        return [], {"steps": ["steps_missing"]}
    if len(raw) > MAX_STEPS:
        return [], {"steps": ["steps_many"]}
    steps = []
    for n, item in enumerate(raw):
        path = f"steps.{n}"
        if not isinstance(item, dict):
            errors.setdefault(path, []).append("step_shape")
            continue
        step = {"name_zh": _name(item, "name_zh", errors, path, required=True),
                "name_en": _name(item, "name_en", errors, path, required=False)}
        step["mode"] = item.get("mode", "any")
        if step["mode"] not in MODES:
            errors.setdefault(f"{path}.mode", []).append("mode")
        step["review"] = item.get("review") or ""
        if step["review"] not in REVIEWS:
            errors.setdefault(f"{path}.review", []).append("review")
        approvers = item.get("approvers")
        if not isinstance(approvers, list) or not approvers:
            errors.setdefault(f"{path}.approvers", []).append("approvers_missing")
            approvers = []
        elif len(approvers) > MAX_APPROVERS:
            errors.setdefault(f"{path}.approvers", []).append("approvers_many")
            approvers = []
        cleaned = []
        for approver in approvers:
            try:
                approver = clean_approver(approver, roles=roles, users=users)
            except ValueError as exc:
                errors.setdefault(f"{path}.approvers", []).append(str(exc))
                continue
            if approver in cleaned:
                errors.setdefault(f"{path}.approvers", []).append("approver_twice")
                continue
            cleaned.append(approver)
        step["approvers"] = cleaned
        step["when"] = clean_conditions(item.get("when"), f"{path}.when", errors, choices=choices)
        steps.append(step)
    return steps, errors


def risk_at_least(level: str, threshold: str) -> bool:
    return RISK_ORDER.get(level, 0) >= RISK_ORDER.get(threshold, 0)
