from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qiyue.core.htmx import BootstrapFormMixin

from .models import Team, User
from .services import code_method, normalise_code

# Generous for a code typed with spaces or dashes, far below anything that costs to handle.
CODE_MAX_LENGTH = 64
PASSWORD_MAX_LENGTH = 1024


def _code_field(label, *, required=True, numeric=False, autofocus=False):
    attrs = {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
    if autofocus:
        attrs["autofocus"] = True
    if numeric:
        attrs.update(inputmode="numeric", pattern=r"[0-9 ]*")
    return forms.CharField(label=label, max_length=CODE_MAX_LENGTH, required=required,
                           widget=forms.TextInput(attrs=attrs))


def _password_field(label, *, required=True):
    return forms.CharField(label=label, max_length=PASSWORD_MAX_LENGTH, required=required, strip=False,
                           widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def _clean_any_code(value: str) -> str:
    code = normalise_code(value)
    if code and code_method(code) is None:
        raise ValidationError(_("Enter the 6-digit code from your authenticator app, or a recovery code."),
                              code="invalid")
    return code


class SecondStepForm(BootstrapFormMixin, forms.Form):
    """The code at the second sign-in step: six digits from the app, or a recovery code."""

    code = _code_field(_("Authentication code"), numeric=True, autofocus=True)

    def clean_code(self):
        return _clean_any_code(self.cleaned_data["code"])


class RecoveryStepForm(SecondStepForm):
    code = _code_field(_("Recovery code"), autofocus=True)


class ConfirmSetupForm(BootstrapFormMixin, forms.Form):
    code = _code_field(_("Code from the app"), numeric=True, autofocus=True)

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if code_method(code) != "totp":
            raise ValidationError(_("Enter the 6-digit code your authenticator app shows."), code="invalid")
        return code


class RegenerateCodesForm(BootstrapFormMixin, forms.Form):
    code = _code_field(_("Code from the app"), required=False, numeric=True)
    password = _password_field(_("or your password"), required=False)

    def clean_code(self):
        return _clean_any_code(self.cleaned_data["code"])

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("code") and not data.get("password"):
            raise ValidationError(_("Enter a code from your app or your password."), code="required")
        return data


class DisableForm(BootstrapFormMixin, forms.Form):
    password = _password_field(_("Password"))
    code = _code_field(_("Code from the app or a recovery code"))

    def clean_code(self):
        return _clean_any_code(self.cleaned_data["code"])


# --- In-app administration ----------------------------------------------------------------------

class UserCreateForm(BootstrapFormMixin, forms.ModelForm):
    password = forms.CharField(
        label=_("Password"), required=False, strip=False, max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to make a temporary password, shown to you once, for the new user."))
    password2 = forms.CharField(label=_("Password again"), required=False, strip=False,
                                max_length=PASSWORD_MAX_LENGTH,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "role", "team"]

    def clean(self):
        data = super().clean()
        if (data.get("password") or "") != (data.get("password2") or ""):
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserUpdateForm(BootstrapFormMixin, forms.ModelForm):
    seen = forms.CharField(widget=forms.HiddenInput, max_length=64)

    class Meta:
        model = User
        fields = ["display_name", "email", "role", "team", "reports_to", "is_active"]
        labels = {"is_active": _("May sign in (active)")}
        help_texts = {"is_active": _("Untick to deactivate: the user can no longer sign in; what they did stays."),
                      "reports_to": _("Approval flows can name a contract owner's superior as an approver.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        others = User.objects.filter(is_active=True).order_by("username")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["reports_to"].queryset = others


class TeamForm(BootstrapFormMixin, forms.ModelForm):
    seen = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    class Meta:
        model = Team
        fields = ["name"]
