from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from qiyue.core.htmx import BootstrapFormMixin

from .kinds import kinds


class NotificationSettingsForm(BootstrapFormMixin, forms.Form):
    email_kinds = forms.MultipleChoiceField(label=_("Also by e-mail"), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Language of e-mails"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_kinds"].choices = [(k.key, k.label) for k in kinds()]
        self.fields["language"].choices = [("", _("The site's language")), *settings.LANGUAGES]
