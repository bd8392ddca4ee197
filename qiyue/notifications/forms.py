from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from qiyue.core.htmx import BootstrapFormMixin

from .kinds import kinds


class NotificationSettingsForm(BootstrapFormMixin, forms.Form):
    app_kinds = forms.MultipleChoiceField(label=_("In the app"), required=False, widget=forms.CheckboxSelectMultiple)
    email_kinds = forms.MultipleChoiceField(label=_("By e-mail"), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    daily_digest = forms.BooleanField(
        label=_("Send my reminders as one e-mail a day"), required=False,
        help_text=_("Reminders you get by e-mail come together in a daily digest instead of one e-mail each."))
    language = forms.ChoiceField(label=_("Language of e-mails"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_kinds"].choices = [(k.key, k.label) for k in kinds()]
        self.fields["app_kinds"].choices = [(k.key, k.label) for k in kinds()]
        self.fields["language"].choices = [("", _("The site's language")), *settings.LANGUAGES]

    def rows(self):
        """One row per kind: its label and its two checkboxes."""
        app = set(self["app_kinds"].value() or [])
        email = set(self["email_kinds"].value() or [])
        return [{"key": k.key, "label": k.label, "app": k.key in app, "email": k.key in email, "digest": k.digest}
                for k in kinds()]
