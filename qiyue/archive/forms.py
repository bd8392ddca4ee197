from django import forms
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.models import RetentionPolicy
from qiyue.core.htmx import BootstrapFormMixin


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label is not None:  # the contract page shows two of these: each says what it is for
            self.fields["reason"].label = label


class RetentionPolicyForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["retention_years", "description"]


class CompareForm(forms.Form):
    a = forms.IntegerField(required=False)
    b = forms.IntegerField(required=False)
