import json

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.accounts.models import Team, User
from qiyue.accounts.selectors import assignable_owners
from qiyue.core.htmx import BootstrapFormMixin, style_form
from qiyue.core.permissions import visible
from qiyue.core.validators import COMMON_CURRENCIES
from qiyue.customers.forms import team_choices
from qiyue.customers.models import Customer

from . import custom_fields
from .models import Contract, ContractType, FieldKind, SigningMethod, Status, TerminationCategory
from .services import FROZEN_FIELDS, facts_frozen

CONTRACT_FORM_FIELDS = [
    "number", "title", "customer", "parent", "our_entity", "counterparty_signatory",
    "amount", "currency", "tax_rate", "no_amount_reason", "signing_date", "effective_date", "expiry_date",
    "open_ended", "auto_renewal", "notice_period_days", "nature", "subject_matter", "signing_form",
    "owner", "team", "tags", "description", "contract_type",
]


def custom_form_field(field, *, required: bool) -> forms.Field:
    """The form field of a custom field, labelled in the user's language."""
    label = str(field)
    kind = field.kind
    if kind == FieldKind.TEXT:
        return forms.CharField(label=label, required=required, max_length=custom_fields.TEXT_MAX)
    if kind in (FieldKind.NUMBER, FieldKind.MONEY):
        return forms.DecimalField(label=label, required=required, max_digits=22,
                                  decimal_places=2 if kind == FieldKind.MONEY else 4,
                                  min_value=0 if kind == FieldKind.MONEY else None)
    if kind == FieldKind.DATE:
        return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))
    if kind == FieldKind.BOOLEAN:
        return forms.TypedChoiceField(label=label, required=required, coerce=lambda v: v == "1", empty_value=None,
                                      choices=[("", "---------"), ("1", _("Yes")), ("0", _("No"))])
    choices = [(choice.get("value"), field.choice_label(choice.get("value"))) for choice in field.choices or []]
    if kind == FieldKind.CHOICE:
        return forms.ChoiceField(label=label, required=required, choices=[("", "---------"), *choices])
    if kind == FieldKind.MULTI_CHOICE:
        return forms.MultipleChoiceField(label=label, required=required, choices=choices,
                                         widget=forms.CheckboxSelectMultiple)
    users = User.objects.filter(is_active=True).order_by("username")
    return forms.TypedChoiceField(label=label, required=required, coerce=int, empty_value=None,
                                  choices=[("", "---------"), *((u.pk, str(u)) for u in users)])


def form_initial(field, value):
    if value is None:
        return None
    if field.kind == FieldKind.BOOLEAN:
        return "1" if value else "0"
    return value


# The customer select offers this many (the chosen one, then the first by name); its search finds the rest.
CUSTOMER_CHOICES = 50


def customer_choices(customers, *, selected: int | None, query: str = "") -> list:
    """Options of the customer select: the first CUSTOMER_CHOICES customers by name whose name or credit
    code holds `query`, and the selected one always (a select of a hundred thousand helps nobody)."""
    rows = customers
    query = query.strip()
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(credit_code__iexact=query))
    found = list(rows.order_by("name", "pk").only("id", "name")[:CUSTOMER_CHOICES])
    if selected is not None and all(c.pk != selected for c in found):
        found = list(customers.filter(pk=selected).only("id", "name")) + found
    return [("", "---------")] + [(c.pk, c.name) for c in found]


# The framework-agreement select offers this many of the customer's newest; the search finds the rest.
PARENT_CHOICES = 50


def parent_label(contract) -> str:
    return f"{contract.number} {contract.title}"


def parent_choices(parents, *, customer: int | None, selected: int | None, query: str = "") -> list:
    """Options of the framework-agreement select: none until a customer is chosen; then that customer's
    framework agreements matching `query` (number or title), newest first, the selected one always."""
    choices = [("", "---------")]
    if customer is None:
        return choices
    rows = parents.filter(customer_id=customer)
    query = query.strip()
    if query:
        rows = rows.filter(Q(number__icontains=query) | Q(title__icontains=query))
    found = list(rows.order_by("-created_at", "-id")[:PARENT_CHOICES])
    if selected is not None and all(c.pk != selected for c in found):
        found = list(parents.filter(pk=selected, customer_id=customer)) + found
    return choices + [(c.pk, parent_label(c)) for c in found]


class ContractForm(BootstrapFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contract
        fields = CONTRACT_FORM_FIELDS
        widgets = {
            "signing_date": forms.DateInput(),
            "effective_date": forms.DateInput(),
            "expiry_date": forms.DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
            "currency": forms.TextInput(attrs={"list": "currency-choices", "autocomplete": "off",
                                               "maxlength": 3, "class": "form-control text-uppercase"}),
        }

    common_currencies = COMMON_CURRENCIES
    facts_frozen = False

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.fields["number"].required = False
        self.fields["number"].help_text = _("Leave empty to generate the next number.")
        # Only customers and framework agreements the user may see are offered.
        customers = visible(user, Customer.objects.all())
        self.fields["customer"].queryset = customers.order_by("name")
        self.fields["customer"].widget.choices = customer_choices(customers, selected=self._chosen("customer"))
        parents = visible(user, Contract.objects.live().filter(parent__isnull=True)
                          .select_related("customer"))
        if instance.pk:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents.order_by("-created_at")
        self.fields["parent"].label_from_instance = parent_label
        # The select offers the chosen customer's newest framework agreements (and the chosen one), not
        # every contract: the search box beside it asks the server for the others as the user types.
        self.fields["parent"].widget.choices = parent_choices(
            parents, customer=self._chosen("customer"), selected=self._chosen("parent"))
        self.fields["customer"].widget.attrs.update({
            "hx-get": reverse("contracts:parent_options"), "hx-trigger": "change", "hx-target": "#id_parent",
            "hx-swap": "innerHTML", "hx-include": "this, [name=parent_q]",
            **({"hx-vals": json.dumps({"exclude": str(instance.pk)})} if instance.pk else {})})
        self._add_custom_fields(instance)
        self.fields["owner"].queryset = assignable_owners(user=user)
        self.fields["team"].queryset = team_choices(user)
        # Shown, never edited: the sign transition records the signing date (a posted one is ignored).
        self.fields["signing_date"].disabled = True
        self.fields["signing_date"].help_text = _("Recorded when the contract is signed.")
        if instance.pk is None:
            self.fields["owner"].initial = user.pk
            self.fields["owner"].required = False  # empty: the creating user
            self.fields["currency"].initial = "CNY"
            self.fields.pop("version")
        else:
            self.fields["version"].required = True
            self.fields["version"].initial = instance.version
            self.fields["owner"].queryset = User.objects.filter(
                Q(pk__in=assignable_owners(user=user).values("pk")) | Q(pk=instance.owner_id))
            self.fields["team"].queryset = Team.objects.filter(
                Q(pk__in=team_choices(user).values("pk")) | Q(pk=instance.team_id))
            if instance.status != Status.DRAFT:
                # The number identifies the signed document once the contract leaves draft.
                self.fields["number"].disabled = True
                self.fields["number"].help_text = _("The number cannot change after the draft stage.")
            # Shown, not editable: the service refuses a change to these (facts_frozen) anyway.
            self.facts_frozen = facts_frozen(instance)
            if self.facts_frozen:
                for name in FROZEN_FIELDS:
                    if name in self.fields:
                        self.fields[name].disabled = True

    def _add_custom_fields(self, instance):
        """Every custom field of every type in use, as `cf_<id>`; the page shows the chosen type's
        (workspace.js), the service checks only those. A type no longer in use stays for its contracts."""
        types = ContractType.objects.filter(Q(active=True) | Q(pk=instance.contract_type_id)).order_by("name_zh")
        self.fields["contract_type"].queryset = types
        chosen = self._chosen("contract_type")
        values = custom_fields.contract_values(instance) if instance.pk and instance.contract_type_id else {}
        self.custom_groups = []
        for contract_type in types:
            names = []
            for field in custom_fields.type_fields(contract_type):
                name = f"cf_{field.pk}"
                self.fields[name] = custom_form_field(field, required=field.required and (
                    not self.is_bound or chosen == contract_type.pk))
                if contract_type.pk == instance.contract_type_id and not self.is_bound:
                    self.initial[name] = form_initial(field, values.get(field.key))
                names.append(name)
            self.custom_groups.append((contract_type, [self[name] for name in names]))
        style_form(self)  # the fields added here get the same look as the others

    def custom_data(self) -> dict:
        """{key: raw value} of the chosen type's fields, for the service to check."""
        contract_type = self.cleaned_data.get("contract_type")
        if contract_type is None:
            return {}
        return {field.key: self.cleaned_data.get(f"cf_{field.pk}") for field in custom_fields.type_fields(contract_type)
                if f"cf_{field.pk}" in self.fields}

    def name_custom_errors(self, exc):
        """A service's errors on `cf_<key>` put on this form's `cf_<id>` fields."""
        fields = getattr(exc, "fields", None)
        contract_type = self.cleaned_data.get("contract_type") if hasattr(self, "cleaned_data") else None
        if not fields or contract_type is None:
            return exc
        names = {f"{custom_fields.KEY_PREFIX}{f.key}": f"cf_{f.pk}" for f in custom_fields.type_fields(contract_type)}
        exc.fields = {names.get(name, name): messages for name, messages in fields.items()}
        return exc

    def _chosen(self, name):
        """The id of the field's value as the page will show it (bound data, else initial or instance)."""
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        if value is None and not self.is_bound:
            value = getattr(self.instance, f"{name}_id", None)
        value = getattr(value, "pk", value)
        return int(value) if str(value or "").isdigit() and int(value) < 2**62 else None

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean_number(self):
        return (self.cleaned_data.get("number") or "").strip()

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        data["custom_fields"] = self.custom_data()
        if self.instance.pk is None and data.get("owner") is None:
            data.pop("owner", None)
        if self.instance.pk is None and data.get("team") is None:
            data.pop("team", None)  # let the service take the owner's team
        for name, field in self.fields.items():
            if field.disabled:
                data.pop(name, None)
        return data


class TransitionForm(BootstrapFormMixin, forms.Form):
    """Input of one status change; which fields matter depends on the transition."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    signing_method = forms.ChoiceField(label=_("Signing method"), required=False,
                                       choices=[("", "---------"), *SigningMethod.choices])
    signing_date = forms.DateField(label=_("Signing date"), required=False, widget=forms.DateInput())
    confirm_early = forms.BooleanField(label=_("Activate now anyway"), required=False)
    # Terminating: how it ended.
    terminated_on = forms.DateField(label=_("Terminated on"), required=False, widget=forms.DateInput())
    category = forms.ChoiceField(label=_("Reason category"), required=False,
                                 choices=[("", "---------"), *TerminationCategory.choices])
    settlement_amount = forms.DecimalField(label=_("Settlement amount"), required=False, min_value=0,
                                           max_digits=16, decimal_places=2)
    agreed_by = forms.CharField(label=_("Agreed by"), required=False, max_length=200,
                                help_text=_("Who agreed on the other side, or the ruling."))
    keep_claims = forms.ChoiceField(label=_("What is still owed"), required=False, initial="keep", choices=[
        ("keep", _("Keep open installments and obligations as claims")),
        ("cancel", _("Cancel open installments and obligations"))])

    def termination(self) -> dict:
        data = self.cleaned_data
        return {"terminated_on": data.get("terminated_on"), "category": data.get("category"),
                "settlement_amount": data.get("settlement_amount"), "agreed_by": data.get("agreed_by", ""),
                "keep_claims": data.get("keep_claims") != "cancel"}

    def __init__(self, *args, contract: Contract | None = None, transition=None, **kwargs):
        super().__init__(*args, **kwargs)
        if transition is not None and transition.name == "terminate":
            self.fields["category"].required = True
            if not self.is_bound:
                self.initial.setdefault("terminated_on", timezone.localdate())
        if transition is not None and transition.reason_required:
            # Its own label and a required mark: the panel may show two transitions' reasons at once.
            self.fields["reason"].required = True
            self.fields["reason"].label = _("Reason for “%(action)s”") % {"action": transition.label}
        if contract is not None and contract.effective_date is not None:
            self.fields["confirm_early"].label = _(
                "The contract takes effect on %(date)s; activate it now anyway.") % {
                "date": contract.effective_date.isoformat()}


class AmendmentForm(BootstrapFormMixin, forms.Form):
    """An amendment: the contract's terms as they should become (only the changed ones are kept), why,
    and what else changes in words."""

    reason = forms.CharField(label=_("Reason for the amendment"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=16, decimal_places=2)
    tax_rate = forms.DecimalField(label=_("Tax rate (%)"), min_value=0, max_value=100, max_digits=5,
                                  decimal_places=2)
    effective_date = forms.DateField(label=_("Effective date"), required=False, widget=forms.DateInput())
    expiry_date = forms.DateField(label=_("Expiry date"), required=False, widget=forms.DateInput())
    open_ended = forms.BooleanField(label=_("Open-ended"), required=False)
    auto_renewal = forms.BooleanField(label=_("Renews automatically"), required=False)
    notice_period_days = forms.IntegerField(label=_("Notice period (days)"), min_value=0, max_value=3650)
    payment_terms = forms.CharField(label=_("Payment terms"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("When they change: the new payment terms in words."))
    other_terms = forms.CharField(label=_("Other terms"), required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("Anything else the amendment changes, in words."))

    TERMS = ("amount", "tax_rate", "effective_date", "expiry_date", "open_ended", "auto_renewal",
             "notice_period_days")

    @classmethod
    def for_contract(cls, contract, data=None, **kwargs):
        initial = {name: getattr(contract, name) for name in cls.TERMS}
        return cls(data, initial=initial, prefix="amend", **kwargs)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"reason": data["reason"], "payment_terms": data.get("payment_terms", ""),
                "other_terms": data.get("other_terms", ""),
                "changes": {name: data.get(name) for name in self.TERMS}}


class AmendmentSignForm(BootstrapFormMixin, forms.Form):
    signed_on = forms.DateField(label=_("Signed on"), widget=forms.DateInput())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
