from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from qiyue.core.htmx import BootstrapFormMixin

from .policies import REVIEWERS


class DelegationForm(BootstrapFormMixin, forms.Form):
    delegate = forms.ModelChoiceField(label=_("Delegate"), queryset=get_user_model().objects.none(),
                                      help_text=_("Decides your approval tasks while you are away; their decisions "
                                                  "are recorded as made on your behalf."))
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = (get_user_model().objects.filter(is_active=True, role__in=REVIEWERS)
                                            .exclude(pk=user.pk).order_by("username"))
