from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qiyue.accounts.models import Team, User
from qiyue.accounts.policies import can_assign_anyone
from qiyue.accounts.selectors import assignable_owners
from qiyue.core.htmx import BootstrapFormMixin
from qiyue.core.validators import normalize_credit_code

from .models import Communication, Contact, Customer


def team_choices(user):
    if can_assign_anyone(user):
        return Team.objects.all()
    return Team.objects.filter(pk=user.team_id)


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    confirm_duplicate = forms.BooleanField(
        label=_("Save anyway: this is a different customer with a similar name"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = ["name", "credit_code", "industry", "level", "address", "owner", "team", "tags", "notes",
                  "invoice_title", "taxpayer_id", "invoice_address_phone", "invoice_bank_account"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(user=user)
        self.fields["team"].queryset = team_choices(user)
        if self.instance.pk is None:
            self.fields["owner"].initial = user.pk
            self.fields["owner"].required = False  # empty: the creating user
            self.fields.pop("version")
        else:
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version
            # The current owner stays a valid choice even if the editor could not assign them.
            self.fields["owner"].queryset = User.objects.filter(
                Q(pk__in=assignable_owners(user=user).values("pk")) | Q(pk=self.instance.owner_id))
            self.fields["team"].queryset = Team.objects.filter(
                Q(pk__in=team_choices(user).values("pk")) | Q(pk=self.instance.team_id))

    def clean_credit_code(self):
        # Blank means "no code" (foreign companies, individuals): store NULL so uniqueness ignores it.
        return normalize_credit_code(self.cleaned_data.get("credit_code") or "") or None

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        if self.instance.pk is None and data.get("owner") is None:
            data.pop("owner", None)
        if self.instance.pk is None and data.get("team") is None:
            data.pop("team")  # let the service take the owner's team
        return data


class ContactForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "phone", "email", "is_primary"]


class CommunicationForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Communication
        fields = ["occurred_on", "channel", "contract", "summary"]
        widgets = {"occurred_on": forms.DateInput(), "summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, contracts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = contracts
        self.fields["contract"].required = False
