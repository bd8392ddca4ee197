"""Archive pages: browse with facet counts, legal hold and deletion, retention policies, and the
side-by-side compare of two document versions. Thin views over selectors and services."""

import copy
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiyue.contracts import policies as contract_policies
from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts import services as contract_services
from qiyue.contracts.models import RetentionPolicy
from qiyue.contracts.workspace import render_workspace
from qiyue.core.errors import ApplicationError
from qiyue.core.htmx import (
    ServiceFormView,
    hx_redirect,
    is_partial,
    message_error,
    paginate,
    raise_for_status,
    render_page,
)
from qiyue.core.selectors import get_or_404
from qiyue.core.validators import MAX_ID
from qiyue.documents.compare import compare_texts
from qiyue.documents.models import Document, DocumentText
from qiyue.documents.selectors import document_compared

from . import policies, selectors
from .forms import CompareForm, ReasonForm, RetentionPolicyForm

NON_FILTER_PARAMS = ("page", "deleted")


def _params(request):
    params = request.GET.copy()
    for name in NON_FILTER_PARAMS:
        params.pop(name, None)
    return params


def _link(params, **changes) -> str:
    """The archive URL's query string with `changes` applied (None removes a parameter)."""
    params = params.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True) if params else "?"


@login_required
@require_GET
def archive_index(request):
    deleted = request.GET.get("deleted") == "1" and policies.may_see_deleted(request.user)
    params = _params(request)
    if deleted:
        params["deleted"] = "1"
    filter_params = _params(request)
    filterset = selectors.archive_filter(user=request.user, params=filter_params, deleted=deleted)
    contracts = filterset.qs.order_by("-deleted_at", "-id") if deleted else filterset.qs
    page = paginate(request, contracts)
    selectors.annotate_retention(page.object_list)
    facets = selectors.archive_facets(user=request.user, params=filter_params, deleted=deleted)
    for facet in facets:
        selected = set(filter_params.getlist(facet.name))
        facet.clear_url = _link(params, **{facet.name: None, "page": None}) if selected else ""
        for value in facet.values:
            value.selected = value.value in selected
            value.url = _link(params, **{facet.name: value.value, "page": None})
    context = {
        "nav": "archive",
        "page": page,
        "facets": facets,
        "deleted": deleted,
        "may_see_deleted": policies.may_see_deleted(request.user),
        "filter_errors": filterset.errors if filterset.is_bound else {},
        "has_filters": bool(filter_params),
        "is_admin": contract_policies.can_manage_retention(request.user),
    }
    return render_page(request, "archive/index.html", "archive/_browse.html", context)


def _service_error(request, exc: ApplicationError, pk: int):
    message_error(request, exc)
    return redirect("contracts:detail", pk=pk)


@login_required
@require_POST
def legal_hold(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    if not contract_policies.can_set_legal_hold(request.user):
        raise PermissionDenied
    hold = request.POST.get("hold") == "1"
    form = ReasonForm(request.POST, auto_id="id_hold_%s", label=_("Reason for the legal hold"))
    if not form.is_valid():
        if is_partial(request):  # the dialog opens again with the field's error
            return render_workspace(request, contract, hold_form=form, open_dialog="dialog-legal-hold",
                                    error_message=_("Please give a reason."))
        messages.error(request, _("Please give a reason."))
        return redirect("contracts:detail", pk=pk)
    try:
        contract = contract_services.contract_set_legal_hold(actor=request.user, contract=contract, hold=hold,
                                                             reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        if is_partial(request):
            raise_for_status(exc)
            return render_workspace(request, contract, hold_form=form, open_dialog="dialog-legal-hold",
                                    error_message=exc.message)
        return _service_error(request, exc, pk)
    done = _("Legal hold placed.") if hold else _("Legal hold released.")
    if is_partial(request):
        return render_workspace(request, contract, message=done)
    messages.success(request, done)
    return redirect("contracts:detail", pk=pk)


@login_required
@require_POST
def contract_delete(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    if not contract_policies.can_delete_contract(request.user, contract):
        raise PermissionDenied
    form = ReasonForm(request.POST, auto_id="id_delete_%s", label=_("Reason for deleting"))
    if not form.is_valid():
        if is_partial(request):
            return render_workspace(request, contract, delete_form=form, open_dialog="dialog-delete",
                                    error_message=_("Please give a reason."))
        messages.error(request, _("Please give a reason."))
        return redirect("contracts:detail", pk=pk)
    try:
        contract_services.contract_delete(actor=request.user, contract=contract, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        if is_partial(request):
            raise_for_status(exc)
            return render_workspace(request, contract, delete_form=form, open_dialog="dialog-delete",
                                    error_message=exc.message)
        return _service_error(request, exc, pk)
    messages.success(request, _("Contract %(number)s deleted.") % {"number": contract.number})
    if is_partial(request):  # the contract is gone: its page with it
        return hx_redirect(reverse("contracts:list"))
    return redirect("contracts:list")


class RetentionPolicies(ServiceFormView):
    """The retention period per contract nature (admins): every policy is a row with its own form."""

    form_class = RetentionPolicyForm
    template_name = "archive/policies.html"
    success_message = _("Retention policy saved.")

    def load(self):
        if not contract_policies.can_manage_retention(self.request.user):
            raise PermissionDenied  # before telling whether the policy exists
        self.policy = None
        if self.request.method == "POST":
            pk = self.request.POST.get("policy", "")
            if not pk.isdigit() or int(pk) > MAX_ID:
                raise Http404
            self.policy = get_object_or_404(RetentionPolicy, pk=int(pk))

    def allowed(self):
        return contract_policies.can_manage_retention(self.request.user)

    def form_kwargs(self):
        # The form writes into its instance while validating; the service updates the loaded one.
        return {"instance": copy.copy(self.policy), "prefix": f"p{self.policy.pk}"}

    def save(self, form):
        contract_services.retention_policy_update(
            actor=self.request.user, policy=self.policy,
            data={k: form.cleaned_data[k] for k in contract_services.RETENTION_POLICY_FIELDS})

    def redirect_url(self):
        return reverse("archive:policies")

    def get(self, request, *args, **kwargs):
        return render(request, self.template_name, self.page_context(None))

    def page_context(self, form):
        rows = []
        for policy in RetentionPolicy.objects.order_by("nature"):
            edited = form is not None and policy.pk == self.policy.pk
            rows.append({"policy": policy, "form": form if edited else RetentionPolicyForm(
                instance=policy, prefix=f"p{policy.pk}")})
        return {"nav": "archive", "rows": rows}


@login_required
@require_GET
def document_compare(request, doc_id):
    """Side-by-side diff of the extracted text of two versions of one document (default: the
    current version against the one before)."""
    visible_contracts = contract_selectors.contract_queryset(user=request.user)
    document = get_or_404(
        Document.objects.live().select_related("contract", "customer").filter(
            contract__isnull=False, contract__in=visible_contracts.values("pk")),
        doc_id)
    versions = list(document.versions.order_by("-number"))
    by_id = {v.pk: v for v in versions}
    form = CompareForm(request.GET)
    if not form.is_valid():
        raise Http404
    a_id, b_id = form.cleaned_data["a"], form.cleaned_data["b"]
    if (a_id is not None and a_id not in by_id) or (b_id is not None and b_id not in by_id):
        raise Http404
    newer = by_id[b_id] if b_id is not None else (versions[0] if versions else None)
    older = by_id[a_id] if a_id is not None else next((v for v in versions if newer and v.number < newer.number),
                                                      None)
    context = {"nav": "contracts", "document": document, "contract": document.contract, "versions": versions,
               "older": older, "newer": newer, "comparison": None, "missing": []}
    if older is not None and newer is not None:
        texts = {t.version_id: t.text for t in DocumentText.objects.filter(version_id__in=[older.pk, newer.pk])}
        context["missing"] = [v for v in (older, newer) if v.pk not in texts]
        if not context["missing"]:
            context["comparison"] = compare_texts(texts[older.pk], texts[newer.pk])
            document_compared(user=request.user, document=document, older=older, newer=newer)
    return render(request, "documents/compare.html", context)
