"""Contract types and their custom fields, in the app's administration (administrators)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from qiyue.core.errors import service_errors
from qiyue.core.htmx import BootstrapFormMixin, form_error
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


@login_required
@require_http_methods(["GET", "POST"])
def type_list(request):
    _require(request)
    form = ContractTypeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                contract_type = services.contract_type_save(actor=request.user, contract_type=None,
                                                            data=form.cleaned_data)
            except service_errors() as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, _("Contract type %(name)s created.") % {"name": contract_type.name_zh})
                return redirect("contract_types:detail", pk=contract_type.pk)
    types = ContractType.objects.annotate(field_count=Count("fields", filter=Q(fields__active=True))).order_by("name_zh")
    return render(request, "manage/contract_types.html", {"nav": "manage", "types": types, "form": form},
                  status=status)


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


@login_required
@require_http_methods(["GET", "POST"])
def field_detail(request, pk, field_pk):
    _require(request)
    contract_type = get_or_404(ContractType.objects.all(), pk)
    field = get_or_404(CustomField.objects.filter(contract_type=contract_type), field_pk)
    form = CustomFieldForm(request.POST or None, instance=CustomField.objects.get(pk=field.pk))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.custom_field_save(actor=request.user, contract_type=contract_type, field=field,
                                           data=form.service_data())
            except service_errors() as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("contract_types:detail", pk=pk)
    return render(request, "manage/custom_field.html", {
        "nav": "manage", "contract_type": contract_type, "field": field, "form": form}, status=status)
