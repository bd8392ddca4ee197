import json

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qiyue.accounts.models import Team, User
from qiyue.accounts.selectors import assignable_owners
from qiyue.core.htmx import BootstrapFormMixin
from qiyue.core.permissions import visible
from qiyue.core.validators import COMMON_CURRENCIES
from qiyue.customers.forms import team_choices
from qiyue.customers.models import Customer

from .models import Contract, SigningMethod, Status
from .services import FROZEN_FIELDS, facts_frozen

CONTRACT_FORM_FIELDS = [
    "number", "title", "customer", "parent", "our_entity", "counterparty_signatory",
    "amount", "currency", "tax_rate", "no_amount_reason", "signing_date", "effective_date", "expiry_date",
    "open_ended", "auto_renewal", "notice_period_days", "nature", "subject_matter", "signing_form",
    "owner", "team", "tags", "description",
]


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
        self.fields["customer"].queryset = visible(user, Customer.objects.all()).order_by("name")
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

    def __init__(self, *args, contract: Contract | None = None, transition=None, **kwargs):
        super().__init__(*args, **kwargs)
        if transition is not None and transition.reason_required:
            # Its own label and a required mark: the panel may show two transitions' reasons at once.
            self.fields["reason"].required = True
            self.fields["reason"].label = _("Reason for “%(action)s”") % {"action": transition.label}
        if contract is not None and contract.effective_date is not None:
            self.fields["confirm_early"].label = _(
                "The contract takes effect on %(date)s; activate it now anyway.") % {
                "date": contract.effective_date.isoformat()}
