from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.core.htmx import BootstrapFormMixin

from .models import DocumentKind, PaperOriginal
from .uploads import ACCEPT


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(BootstrapFormMixin, forms.Form):
    """Kind and optional title; the files themselves are read from request.FILES["files"]."""

    kind = forms.ChoiceField(label=_("Kind"), choices=DocumentKind.choices, initial=DocumentKind.ATTACHMENT)
    title = forms.CharField(label=_("Title"), max_length=255, required=False,
                            help_text=_("Optional; defaults to the file name."))
    files = forms.FileField(label=_("Files"), required=False,
                            widget=MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}))

    def clean_files(self):
        return None  # read from request.FILES.getlist("files") by the view


class VersionForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)
    file = forms.FileField(label=_("File"), required=False, widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_file(self):
        return None  # read from request.FILES by the view, after the size limit was applied


class PaperOriginalForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = PaperOriginal
        fields = ("room", "cabinet", "box", "copies", "description", "notes")

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class LendForm(BootstrapFormMixin, forms.Form):
    borrower = forms.ModelChoiceField(label=_("Borrower"), queryset=get_user_model().objects.none())
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)
    lent_on = forms.DateField(label=_("Lent on"), widget=forms.DateInput)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=forms.DateInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"lent_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["borrower"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class ReturnForm(BootstrapFormMixin, forms.Form):
    returned_on = forms.DateField(label=_("Returned on"), widget=forms.DateInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"returned_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
