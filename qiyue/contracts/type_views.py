"""Contract types and their custom fields, in the app's administration (administrators)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from qiyue.core.errors import service_errors
from qiyue.core.htmx import BootstrapFormMixin, ServiceFormView, form_error
from qiyue.core.selectors import get_or_404

from . import policies, services
from .models import ContractType, CustomField, FieldKind


class ContractTypeForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = ContractType
        fields = ["name_zh", "name_en", "active"]


class CustomFieldForm(BootstrapFormMixin, forms.ModelForm):
    choices = forms.CharField(
        label=gettext_lazy("Choices"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For a choice field: one per line, “value | 中文 | English”."))

    class Meta:
        model = CustomField
        fields = ["key", "kind", "label_zh", "label_en", "required", "position", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # stored values depend on them: fixed once the field exists
            for name in ("key", "kind"):
                self.fields[name].disabled = True
            self.fields["choices"].initial = "\n".join(
                " | ".join(filter(None, [c.get("value"), c.get("zh"), c.get("en")])) for c in self.instance.choices or [])

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("label_zh", "label_en", "required", "position", "active")}
        data["choices"] = self.cleaned_data.get("choices", "")
        if not self.instance.pk:
            data.update(key=self.cleaned_data["key"], kind=self.cleaned_data["kind"])
        return data


def _require(request):
    if not policies.can_manage_contract_types(request.user):
        raise PermissionDenied


class TypeList(ServiceFormView):
    """The contract types with how many fields each has in use, and the form to add one."""

    form_class = ContractTypeForm
    template_name = "manage/contract_types.html"
    success_message = gettext_lazy("Contract type created.")

    def allowed(self):
        return policies.can_manage_contract_types(self.request.user)

    def save(self, form):
        self.created = services.contract_type_save(actor=self.request.user, contract_type=None,
                                                   data=form.cleaned_data)

    def redirect_url(self):
        return reverse("contract_types:detail", args=[self.created.pk])

    def page_context(self, form):
        types = ContractType.objects.annotate(
            field_count=Count("fields", filter=Q(fields__active=True))).order_by("name_zh")
        return {"nav": "manage", "types": types, "form": form}


@login_required
@require_http_methods(["GET", "POST"])
def type_detail(request, pk):
    _require(request)
    contract_type = get_or_404(ContractType.objects.all(), pk)
    type_form = ContractTypeForm(instance=ContractType.objects.get(pk=pk))
    field_form = CustomFieldForm(prefix="field")
    status = 200
    if request.method == "POST":
        status = 400
        if "rename" in request.POST:
            type_form = ContractTypeForm(request.POST, instance=ContractType.objects.get(pk=pk))
            form, save = type_form, lambda f: services.contract_type_save(
                actor=request.user, contract_type=contract_type, data=f.cleaned_data)
        else:
            field_form = CustomFieldForm(request.POST, prefix="field")
            form, save = field_form, lambda f: services.custom_field_save(
                actor=request.user, contract_type=contract_type, field=None, data=f.service_data())
        if form.is_valid():
            try:
                save(form)
            except service_errors() as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("contract_types:detail", pk=pk)
    fields = contract_type.fields.order_by("position", "pk")
    return render(request, "manage/contract_type.html", {
        "nav": "manage", "contract_type": contract_type, "type_form": type_form, "field_form": field_form,
        "fields": fields, "kinds": FieldKind}, status=status)


class FieldDetail(ServiceFormView):
    """One custom field: its labels, whether it is required or in use, its choices."""

    form_class = CustomFieldForm
    template_name = "manage/custom_field.html"
    success_message = gettext_lazy("Saved.")

    def load(self):
        _require(self.request)  # before telling whether the field exists
        self.contract_type = get_or_404(ContractType.objects.all(), self.kwargs["pk"])
        self.field = get_or_404(CustomField.objects.filter(contract_type=self.contract_type), self.kwargs["field_pk"])

    def form_kwargs(self):
        # The form writes into its instance while validating; the service updates the loaded one.
        return {"instance": CustomField.objects.get(pk=self.field.pk)}

    def save(self, form):
        services.custom_field_save(actor=self.request.user, contract_type=self.contract_type, field=self.field,
                                   data=form.service_data())

    def redirect_url(self):
        return reverse("contract_types:detail", args=[self.contract_type.pk])

    def page_context(self, form):
        return {"nav": "manage", "contract_type": self.contract_type, "field": self.field, "form": form}
