"""The forms of the flow editor: a flow, its steps (a formset), and the conditions both share, turned
into and out of the JSON a flow version keeps (flows.py)."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.contracts.models import ContractType, Nature, SigningForm, SubjectMatter
from qiyue.core.htmx import BootstrapFormMixin
from qiyue.core.roles import Role
from qiyue.core.validators import ISO_4217
from qiyue.customers.models import CustomerLevel

from .display import RELATION_LABELS
from .models import Mode, Review

REVIEWER_ROLE_CHOICES = [(r.value, r.label) for r in (Role.MANAGER, Role.LEGAL, Role.FINANCE, Role.ADMIN)]
RISK_CHOICES = [("", pgettext_lazy("risk condition", "Any")), ("low", _("Low or higher")),
                ("medium", _("Medium or higher")), ("high", _("High"))]
SUPPLEMENT_CHOICES = [("", pgettext_lazy("supplement condition", "Either")), ("yes", _("Only supplements")),
                      ("no", _("Only contracts that are not supplements"))]
CHOICE_FIELDS = (("natures", "nature"), ("subject_matters", "subject_matter"), ("signing_forms", "signing_form"),
                 ("contract_types", "contract_type"), ("customer_levels", "customer_level"))


def _checkboxes():
    return forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


class ConditionFields(forms.Form):
    """When something applies: every filled-in field must hold."""

    min_amount = forms.DecimalField(label=_("Amount at least (CNY)"), required=False, min_value=0,
                                    max_digits=16, decimal_places=2)
    below_amount = forms.DecimalField(label=_("Amount below (CNY)"), required=False, min_value=0,
                                      max_digits=16, decimal_places=2)
    natures = forms.MultipleChoiceField(label=_("Nature is one of"), required=False, choices=Nature.choices,
                                        widget=_checkboxes())
    subject_matters = forms.MultipleChoiceField(label=_("Subject matter is one of"), required=False,
                                                choices=SubjectMatter.choices, widget=_checkboxes())
    signing_forms = forms.MultipleChoiceField(label=_("Signing form is one of"), required=False,
                                              choices=SigningForm.choices, widget=_checkboxes())
    contract_types = forms.ModelMultipleChoiceField(label=_("Contract type is one of"), required=False,
                                                    queryset=ContractType.objects.none(), widget=_checkboxes())
    customer_levels = forms.MultipleChoiceField(label=_("Customer level is one of"), required=False,
                                                choices=CustomerLevel.choices, widget=_checkboxes())
    supplement = forms.ChoiceField(label=_("Supplements"), required=False, choices=SUPPLEMENT_CHOICES)
    min_risk = forms.ChoiceField(label=_("Pre-review risk"), required=False, choices=RISK_CHOICES)

    def init_conditions(self):
        self.fields["contract_types"].queryset = ContractType.objects.order_by("name_zh")

    def as_conditions(self) -> list[dict]:
        data = self.cleaned_data
        out = []
        if data.get("min_amount") is not None:
            out.append({"field": "amount_cny", "op": "gte", "value": str(data["min_amount"])})
        if data.get("below_amount") is not None:
            out.append({"field": "amount_cny", "op": "lt", "value": str(data["below_amount"])})
        for name, field in CHOICE_FIELDS:
            values = data.get(name)
            if values:
                out.append({"field": field, "op": "in",
                            "value": [v.pk for v in values] if name == "contract_types" else list(values)})
        if data.get("supplement") in ("yes", "no"):
            out.append({"field": "supplement", "op": "is", "value": data["supplement"] == "yes"})
        if data.get("min_risk"):
            out.append({"field": "risk_level", "op": "gte", "value": data["min_risk"]})
        return out


def initial_from(conditions: list[dict]) -> dict:
    initial: dict = {}
    fields = {field: name for name, field in CHOICE_FIELDS}
    for c in conditions or []:
        field, op, value = c.get("field"), c.get("op"), c.get("value")
        if field == "amount_cny":
            initial["min_amount" if op == "gte" else "below_amount"] = Decimal(value)
        elif field in fields and op == "in":
            initial[fields[field]] = value
        elif field == "supplement":
            initial["supplement"] = "yes" if value else "no"
        elif field == "risk_level" and op == "gte":
            initial["min_risk"] = value
    return initial


class FlowForm(BootstrapFormMixin, ConditionFields):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    position = forms.IntegerField(label=_("Priority"), min_value=0, max_value=10000, initial=100,
                                  help_text=_("Flows are tried in this order (lowest first); the first whose "
                                              "conditions all hold is used, else the default flow."))
    is_default = forms.BooleanField(label=_("Default flow"), required=False,
                                    help_text=_("Used when no other flow applies. It has no conditions."))
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["name_zh", "name_en", "description", "position", "is_default", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_conditions()


class StepForm(BootstrapFormMixin, ConditionFields):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    mode = forms.ChoiceField(label=_("Who must approve"), choices=Mode.choices, initial=Mode.ANY)
    review = forms.ChoiceField(label=_("Checklist"), choices=Review.choices, required=False)
    roles = forms.MultipleChoiceField(label=_("Everyone with the role"), required=False,
                                      choices=REVIEWER_ROLE_CHOICES, widget=_checkboxes())
    relations = forms.MultipleChoiceField(label=_("By relation to the contract"), required=False,
                                          choices=list(RELATION_LABELS.items()), widget=_checkboxes())
    users = forms.ModelMultipleChoiceField(label=_("These people"), required=False,
                                           queryset=get_user_model().objects.none(),
                                           widget=forms.SelectMultiple(attrs={"size": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_conditions()
        self.fields["users"].queryset = (get_user_model().objects.filter(
            role__in=[r for r, _label in REVIEWER_ROLE_CHOICES], is_active=True).order_by("username"))

    def step(self) -> dict:
        data = self.cleaned_data
        approvers = ([{"type": "role", "value": r} for r in data.get("roles") or []]
                     + [{"type": "relation", "value": r} for r in data.get("relations") or []]
                     + [{"type": "user", "value": u.pk} for u in data.get("users") or []])
        return {"name_zh": data["name_zh"], "name_en": data.get("name_en", ""), "mode": data["mode"],
                "review": data.get("review") or "", "approvers": approvers, "when": self.as_conditions()}


def step_initial(step: dict) -> dict:
    approvers = step.get("approvers", [])
    return {"name_zh": step.get("name_zh", ""), "name_en": step.get("name_en", ""), "mode": step.get("mode", "any"),
            "review": step.get("review", ""),
            "roles": [a["value"] for a in approvers if a["type"] == "role"],
            "relations": [a["value"] for a in approvers if a["type"] == "relation"],
            "users": [a["value"] for a in approvers if a["type"] == "user"],
            **initial_from(step.get("when", []))}


StepFormSet = forms.formset_factory(StepForm, extra=0, can_delete=True, can_order=True, max_num=20,
                                    validate_max=True, absolute_max=20)


class RateForm(BootstrapFormMixin, forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in sorted(ISO_4217) if c != "CNY"])
    rate = forms.DecimalField(label=_("CNY per unit"), min_value=Decimal("0.000001"), max_digits=18,
                              decimal_places=6)
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))


class RuleForm(BootstrapFormMixin, forms.Form):
    key = forms.CharField(label=pgettext_lazy("pre-review rule", "Key"), max_length=60, required=False,
                          help_text=_("Fixed once the rule exists, e.g. custom.warranty."))
    kind = forms.ChoiceField(label=_("Kind"), choices=[("clause", _("A clause that should be there")),
                                                       ("risk", _("A risky term")),
                                                       ("fact", _("A check of the contract's facts"))],
                             required=False)
    label_zh = forms.CharField(label=_("Chinese label"), max_length=100)
    label_en = forms.CharField(label=_("English label"), max_length=100, required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=[("high", _("High")), ("medium", _("Medium")),
                                                               ("low", _("Low"))])
    patterns = forms.CharField(label=_("Keywords and regular expressions, one per line"), required=False,
                               widget=forms.Textarea(attrs={"rows": 6, "class": "form-control font-monospace"}),
                               help_text=_("Matched in the contract's text in either language, ignoring case; "
                                           "any line that matches counts. For a limit, the first number in "
                                           "parentheses is compared with it."))
    natures = forms.MultipleChoiceField(label=_("Only for contracts of these natures (none: all)"), required=False,
                                        choices=Nature.choices, widget=_checkboxes())
    max_days = forms.IntegerField(label=_("At most this many days"), required=False, min_value=0, max_value=3650)
    max_percent = forms.DecimalField(label=_("At most this percentage"), required=False, min_value=0,
                                     max_value=100, decimal_places=2)
    ours = forms.CharField(label=_("Our places (comma-separated)"), required=False, max_length=500)
    check = forms.ChoiceField(label=_("What it checks"), required=False, choices=[
        ("", "—"), ("no_expiry_date", _("No expiry date")),
        ("renewal_without_notice", _("Automatic renewal without a notice period")),
        ("amount_over_limit", _("Amount above the owner's limit")),
        ("currency_without_rate", _("Currency without an exchange rate"))])
    limit = forms.DecimalField(label=_("Amount limit (CNY)"), required=False, min_value=0, max_digits=16,
                               decimal_places=2)
    limits = forms.CharField(label=_("Limits per owner role, one per line: role = amount"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}), max_length=500)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=10000, initial=0)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def clean_limits(self):
        limits = {}
        for n, line in enumerate((self.cleaned_data.get("limits") or "").splitlines(), start=1):
            if not line.strip():
                continue
            role, _sep, amount = line.partition("=")
            role, amount = role.strip(), amount.strip()
            if role not in Role.values or not amount.replace(".", "", 1).isdigit():
                raise forms.ValidationError(_("Line %(n)d: write “role = amount”, e.g. sales = 1000000.") % {"n": n})
            limits[role] = amount
        return limits

    def data_for_service(self, kind: str) -> dict:
        data = self.cleaned_data
        params: dict = {}
        if kind == "risk":
            if data.get("max_days") is not None:
                params["max_days"] = data["max_days"]
            if data.get("max_percent") is not None:
                params["max_percent"] = str(data["max_percent"])
            if data.get("ours"):
                params["ours"] = [p.strip() for p in data["ours"].replace("，", ",").split(",") if p.strip()]
        elif kind == "fact":
            params["check"] = data.get("check")
            if data.get("limit") is not None:
                params["limit"] = str(data["limit"])
            if data.get("limits"):
                params["limits"] = data["limits"]
        return {"key": data.get("key", ""), "kind": data.get("kind") or kind, "label_zh": data["label_zh"],
                "label_en": data.get("label_en", ""), "severity": data["severity"], "patterns": data.get("patterns", ""),
                "natures": list(data.get("natures") or []), "params": params, "active": data.get("active", False),
                "position": data.get("position") or 0}


def rule_initial(rule) -> dict:
    params = rule.params or {}
    return {"key": rule.key, "kind": rule.kind, "label_zh": rule.label_zh, "label_en": rule.label_en,
            "severity": rule.severity, "patterns": "\n".join(rule.patterns), "natures": rule.natures,
            "max_days": params.get("max_days"), "max_percent": params.get("max_percent"),
            "ours": ", ".join(params.get("ours", [])), "check": params.get("check", ""),
            "limit": params.get("limit"),
            "limits": "\n".join(f"{r} = {v:g}" if isinstance(v, float) else f"{r} = {v}"
                                for r, v in (params.get("limits") or {}).items()),
            "position": rule.position, "active": rule.active}
