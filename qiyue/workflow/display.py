"""How flows and approvals read, in the user's language: a condition ("the amount is at least
100,000 CNY"), an approver entry ("the owner's team manager")."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.contracts.models import ContractType, Nature, SigningForm, SubjectMatter
from qiyue.core.roles import Role
from qiyue.customers.models import CustomerLevel

FIELD_LABELS = {
    "amount_cny": gettext_lazy("amount in CNY"),
    "nature": gettext_lazy("nature"),
    "subject_matter": gettext_lazy("subject matter"),
    "signing_form": gettext_lazy("signing form"),
    "contract_type": gettext_lazy("contract type"),
    "customer_level": gettext_lazy("customer level"),
    "supplement": gettext_lazy("supplement to a framework agreement"),
    "risk_level": gettext_lazy("pre-review risk"),
}
RELATION_LABELS = {
    "team_manager": gettext_lazy("The contract team's manager"),
    "owner_superior": gettext_lazy("The owner's superior"),
    "owner_superior_2": gettext_lazy("The owner's superior's superior"),
}
RISK_LABELS = {"low": gettext_lazy("low"), "medium": gettext_lazy("medium"), "high": gettext_lazy("high")}


def _choice_labels(field: str, values: list) -> list[str]:
    if field == "contract_type":
        names = {t.pk: str(t) for t in ContractType.objects.filter(pk__in=values)}
        return [names.get(v, str(v)) for v in values]
    choices = {"nature": Nature, "subject_matter": SubjectMatter, "signing_form": SigningForm,
               "customer_level": CustomerLevel}[field]
    labels = dict(choices.choices)
    return [str(labels.get(v, v)) for v in values]


def describe(condition: dict) -> str:
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if field == "amount_cny":
        amount = number_format(Decimal(value), decimal_pos=0, force_grouping=True)
        if op == "gte":
            return _("the amount is at least %(amount)s CNY") % {"amount": amount}
        return _("the amount is below %(amount)s CNY") % {"amount": amount}
    if field == "risk_level":
        level = str(RISK_LABELS.get(value, value))
        if op == "gte":
            return _("the pre-review risk is %(level)s or higher") % {"level": level}
        return _("the pre-review risk is below %(level)s") % {"level": level}
    if field == "supplement":
        return _("the contract is a supplement") if value else _("the contract is not a supplement")
    if field not in FIELD_LABELS:
        return str(condition)
    labels = "、".join(_choice_labels(field, value or []))
    if op == "in":
        return _("the %(field)s is %(values)s") % {"field": FIELD_LABELS[field], "values": labels}
    return _("the %(field)s is not %(values)s") % {"field": FIELD_LABELS[field], "values": labels}


def describe_all(conditions: list[dict]) -> str:
    return _("; ").join(describe(c) for c in conditions or [])


def approver_label(approver: dict, users: dict | None = None) -> str:
    kind, value = approver.get("type"), approver.get("value")
    if kind == "role":
        return _("Role: %(role)s") % {"role": dict(Role.choices).get(value, value)}
    if kind == "relation":
        return str(RELATION_LABELS.get(value, value))
    if users is None:
        users = {u.pk: u for u in get_user_model().objects.filter(pk=value)}
    user = users.get(value)
    return str(user) if user else _("(a removed user)")
