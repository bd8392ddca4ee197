"""Archive pages: browse with facet counts, legal hold and deletion, retention policies, and the
side-by-side compare of two document versions. Thin views over selectors and services."""

import copy
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qiyue.contracts import policies as contract_policies
from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts import services as contract_services
from qiyue.contracts.models import RetentionPolicy
from qiyue.core.errors import ApplicationError
from qiyue.core.htmx import paginate, render_page
from qiyue.documents.compare import compare_texts
from qiyue.documents.events import document_event
from qiyue.documents.models import Document, DocumentText

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
    if exc.status == 403:
        raise PermissionDenied from exc
    if exc.status == 404:
        raise Http404 from exc
    messages.error(request, exc.message)
    return redirect("contracts:detail", pk=pk)


@login_required
@require_POST
def legal_hold(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    if not contract_policies.can_set_legal_hold(request.user):
        raise PermissionDenied
    hold = request.POST.get("hold") == "1"
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give a reason."))
        return redirect("contracts:detail", pk=pk)
    try:
        contract_services.contract_set_legal_hold(actor=request.user, contract=contract, hold=hold,
                                                  reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        return _service_error(request, exc, pk)
    messages.success(request, _("Legal hold placed.") if hold else _("Legal hold released."))
    return redirect("contracts:detail", pk=pk)


@login_required
@require_POST
def contract_delete(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    if not contract_policies.can_delete_contract(request.user, contract):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give a reason."))
        return redirect("contracts:detail", pk=pk)
    try:
        contract_services.contract_delete(actor=request.user, contract=contract, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        return _service_error(request, exc, pk)
    messages.success(request, _("Contract %(number)s deleted.") % {"number": contract.number})
    return redirect("contracts:list")


def _require_admin(user) -> None:
    if not contract_policies.can_manage_retention(user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def retention_policies(request):
    _require_admin(request.user)
    policies = list(RetentionPolicy.objects.order_by("nature"))
    edited, status = None, 200
    if request.method == "POST":
        policy = get_object_or_404(RetentionPolicy, pk=request.POST.get("policy"))
        # The form writes into its instance while validating; the service does the real update.
        form = RetentionPolicyForm(request.POST, instance=copy.copy(policy), prefix=f"p{policy.pk}")
        if form.is_valid():
            try:
                contract_services.retention_policy_update(
                    actor=request.user, policy=policy,
                    data={k: form.cleaned_data[k] for k in contract_services.RETENTION_POLICY_FIELDS})
            except ApplicationError as exc:
                if exc.status == 403:
                    raise PermissionDenied from exc
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Retention policy saved."))
                return redirect("archive:policies")
        edited, status = (policy.pk, form), 400
    rows = []
    for policy in policies:
        form = edited[1] if edited and edited[0] == policy.pk else RetentionPolicyForm(instance=policy,
                                                                                          prefix=f"p{policy.pk}")
        rows.append({"policy": policy, "form": form})
    return render(request, "archive/policies.html", {"nav": "archive", "rows": rows}, status=status)


@login_required
@require_GET
def document_compare(request, doc_id):
    """Side-by-side diff of the extracted text of two versions of one document (default: the
    current version against the one before)."""
    visible_contracts = contract_selectors.contract_queryset(user=request.user)
    document = get_object_or_404(
        Document.objects.live().select_related("contract", "customer").filter(
            contract__isnull=False, contract__in=visible_contracts.values("pk")),
        pk=doc_id)
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
            document_event(actor=request.user, action="document.compared", document=document, access=True,
                           changes={"versions": [older.number, newer.number]})
    return render(request, "documents/compare.html", context)
