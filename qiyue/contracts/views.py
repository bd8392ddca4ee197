"""Contract pages: thin views over the contract selectors and services."""

import copy

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qiyue.core import permissions
from qiyue.core.errors import ApplicationError, filtered, service_errors
from qiyue.core.htmx import (
    form_error,
    hx_redirect,
    is_partial,
    message_error,
    paginate,
    raise_for_status,
    render_page,
    style_form,
)
from qiyue.core.validators import MAX_ID
from qiyue.customers.models import Customer

from . import custom_fields, events, exports, policies, saved_views, selectors, services
from .columns import COLUMNS
from .filters import narrow_filter_choices
from .forms import ContractForm, TransitionForm, customer_choices, parent_choices
from .models import Contract, ContractType
from .transitions import TRANSITIONS
from .workspace import render_workspace, workspace_context

# Query parameters that are not filters.
NON_FILTER_PARAMS = ("page", "format", "columns", "view")
CHECKBOX_FILTERS = ("status", "nature", "subject_matter", "signing_form")


def _filter_params(request):
    params = request.GET.copy()
    for name in NON_FILTER_PARAMS:
        params.pop(name, None)
    return params


def _filter_form(request, form):
    """The list's filter form: the form of the filterset that filtered the list, its widgets set."""
    narrow_filter_choices(form, user=request.user, data=request.GET)
    form.fields.pop("parent", None)
    for name in CHECKBOX_FILTERS:
        form.fields[name].widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
        form.fields[name].widget.choices = form.fields[name].choices
    # The currencies of the contracts the user may see, as a pick list (and one typed into the address).
    currencies = selectors.contract_currencies(user=request.user)
    chosen = request.GET.get("currency", "").strip().upper()
    if chosen and chosen not in currencies:
        currencies.append(chosen)
    form.fields["currency"].widget = forms.Select(choices=[("", _("Any currency")),
                                                           *((c, c) for c in sorted(currencies))])
    tags = selectors.contract_tags(user=request.user, also=[request.GET.get("tag", "").strip()])
    form.fields["tag"].widget = forms.Select(choices=[("", _("Any tag")), *((t, t) for t in tags)],
                                             attrs={"translate": "no"})
    style_form(form)
    return form


def _chosen_type_fields(request) -> list:
    """The custom fields of the contract type the list is filtered by (its optional columns)."""
    chosen = request.GET.get("contract_type", "")
    if not chosen.isdigit() or len(chosen) > 11:
        return []
    return custom_fields.type_fields(ContractType.objects.filter(pk=int(chosen)).first())


@login_required
def contract_list(request):
    # One filterset filters the list and is its form (building a second costs a few milliseconds).
    filterset = selectors.contract_filterset(user=request.user, filters=_filter_params(request))
    try:
        contracts = filtered(filterset)
        filter_errors = {}
    except ApplicationError as exc:
        contracts, filter_errors = Contract.objects.none(), exc.fields
    query = _filter_params(request)  # the sort too: it is part of a view
    page = paginate(request, contracts)
    columns = saved_views.user_columns(user=request.user, requested=request.GET.get("columns"))
    type_fields = _chosen_type_fields(request)
    custom_columns = [(f"cf{field.pk}", str(field)) for field in type_fields]
    shown_custom = [field for field in type_fields if f"cf{field.pk}" in columns]
    if "overdue" in columns:
        today = timezone.localdate()
        for contract in page.object_list:
            contract.overdue_now = contract.overdue_amount(today)
    if shown_custom:
        cells = custom_fields.display_cells(list(page.object_list), shown_custom)
        for contract in page.object_list:
            contract.custom_cells = cells.get(contract.pk, ["—"] * len(shown_custom))
    context = {
        "filter_errors": filter_errors,
        "nav": "contracts",
        "page": page,
        "columns": columns,
        "column_choices": list(COLUMNS.items()) + custom_columns,
        "custom_heads": [(f"cf{field.pk}", str(field)) for field in shown_custom],
        "saved_views": list(saved_views.saved_views(user=request.user)),
        "current_query": query.urlencode(),
        "filter_form": _filter_form(request, filterset.form),
        "checkbox_filters": CHECKBOX_FILTERS,
        "can_create": policies.can_create_contract(request.user),
    }
    return render_page(request, "contracts/list.html", "contracts/_table.html", context)


def _back_to_list(query: str, columns: str = "") -> str:
    params = QueryDict(query, mutable=True)
    if columns:
        params["columns"] = columns
    return reverse("contracts:list") + (f"?{params.urlencode()}" if params else "")


@login_required
@require_POST
def view_save(request):
    """Save the list's current filters, sort and columns as one of the user's views."""
    query = request.POST.get("query", "")
    try:
        view = saved_views.saved_view_save(actor=request.user, name=request.POST.get("name", ""), query=query,
                                           columns=request.POST.get("columns", ""))
    except ApplicationError as exc:
        raise_for_status(exc)
        for field, errors in exc.fields.items():
            messages.error(request, f"{VIEW_FIELDS.get(field, field)}: {' '.join(errors)}")
        return redirect(_back_to_list(query) if len(query) <= saved_views.QUERY_MAX else reverse("contracts:list"))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_back_to_list(view.query, view.columns))


@login_required
@require_POST
def view_delete(request, pk):
    try:
        saved_views.saved_view_delete(actor=request.user, pk=pk)
    except ApplicationError as exc:
        message_error(request, exc)
    messages.success(request, _("View deleted."))
    return redirect("contracts:list")


@login_required
@require_POST
def columns_save(request):
    """The user's choice of columns; back to the list as it was."""
    query = request.POST.get("query", "")
    back = _back_to_list(query) if len(query) <= saved_views.QUERY_MAX else reverse("contracts:list")
    try:
        saved_views.columns_set(actor=request.user, columns=request.POST.getlist("columns"))
    except ApplicationError as exc:
        messages.error(request, " ".join(" ".join(errors) for errors in exc.fields.values()) or exc.message)
    return redirect(back)


@login_required
@require_GET
def contract_totals(request):
    """Per-currency totals of the filtered list, loaded after the list itself (summing a broad filter
    over a million contracts must not hold the list back)."""
    try:
        totals, error = selectors.contract_list_totals(user=request.user, filters=_filter_params(request)), ""
    except ApplicationError as exc:
        totals, error = [], exc.message
    return render(request, "contracts/_totals.html", {"totals": totals, "totals_error": error},
                  status=400 if error else 200)


PARENT_QUERY_MAX = 100
VIEW_FIELDS = {"name": gettext_lazy("Name"), "query": gettext_lazy("Filters"), "columns": gettext_lazy("Columns")}


def _id_param(request, name):
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_ID:
        raise BadRequest(name)
    return int(value)


@login_required
@require_GET
def customer_options(request):
    """The customer select's options for the contract form: the customers the user may see whose name
    (or credit code) holds `customer_q`, the first by name (the form's search box asks as the user types)."""
    try:
        selected = _id_param(request, "customer")
    except BadRequest as exc:
        return HttpResponseBadRequest(_("%(field)s: not a valid id.") % {"field": exc})
    query = request.GET.get("customer_q", "")
    if len(query) > PARENT_QUERY_MAX:
        return HttpResponseBadRequest(_("The search is too long (at most %(n)d characters).") % {"n": PARENT_QUERY_MAX})
    choices = customer_choices(permissions.visible(request.user, Customer.objects.all()), selected=selected,
                               query=query)
    return render(request, "contracts/_parent_options.html",
                  {"choices": choices, "selected": selected, "customer": 0, "query": query,
                   "empty_text": _("No customer matches") if query and len(choices) == 1 else ""})


@login_required
@require_GET
def parent_options(request):
    """The framework-agreement select's options for the contract form: the chosen customer's framework
    agreements whose number or title holds `q` (the form's search box asks as the user types)."""
    try:
        customer, selected, exclude = (_id_param(request, name) for name in ("customer", "parent", "exclude"))
    except BadRequest as exc:
        return HttpResponseBadRequest(_("%(field)s: not a valid id.") % {"field": exc})
    query = request.GET.get("parent_q", "")
    if len(query) > PARENT_QUERY_MAX:
        return HttpResponseBadRequest(_("The search is too long (at most %(n)d characters).") % {"n": PARENT_QUERY_MAX})
    if customer is not None and not permissions.visible(request.user, Customer.objects.filter(pk=customer)).exists():
        raise Http404
    parents = permissions.visible(request.user, Contract.objects.live().filter(parent__isnull=True))
    if exclude is not None:
        parents = parents.exclude(pk=exclude)
    choices = parent_choices(parents, customer=customer, selected=selected, query=query)
    return render(request, "contracts/_parent_options.html",
                  {"choices": choices, "selected": selected, "customer": customer, "query": query})


@login_required
@require_GET
def contract_export(request):
    kind = request.GET.get("format", "xlsx")
    if kind not in ("xlsx", "csv"):
        return HttpResponseBadRequest(_("Unknown export format."))
    params = _filter_params(request)
    try:
        contracts = selectors.contract_list(user=request.user, filters=params)
    except ApplicationError as exc:
        return HttpResponseBadRequest(exc.message + " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()))
    count = contracts.count()
    events.contracts_exported_event(actor=request.user, count=count, filters=params.urlencode())
    extra = _chosen_type_fields(request)  # the chosen type's fields as further columns
    return (exports.xlsx_response(contracts, request.user, extra) if kind == "xlsx"
            else exports.csv_response(contracts, request.user, extra))


@login_required
def contract_detail(request, pk):
    contract = selectors.contract_open(user=request.user, pk=pk)
    return render(request, "contracts/detail.html", workspace_context(request, contract))


@login_required
@require_POST
def contract_transition(request, pk, name):
    contract = selectors.contract_get(user=request.user, pk=pk)
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise Http404
    if not policies.can_take(request.user, contract, transition):
        raise PermissionDenied
    form = TransitionForm(request.POST, prefix=name, contract=contract, transition=transition)
    error = ""
    if form.is_valid():
        try:
            contract = services.contract_transition(
                actor=request.user, contract=contract, name=name,
                reason=form.cleaned_data["reason"], signing_method=form.cleaned_data["signing_method"],
                signing_date=form.cleaned_data["signing_date"], expected_version=form.cleaned_data["version"],
                confirm_early=form.cleaned_data["confirm_early"],
                termination=form.termination() if name == "terminate" else None)
        except service_errors() as exc:
            form_error(form, exc)
            error = getattr(exc, "message", "") or _("Please correct the errors below.")
    else:
        error = _("Please correct the errors below.")
    if not is_partial(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("%(action)s: done.") % {"action": transition.label})
        return redirect("contracts:detail", pk=contract.pk)
    if error:
        # Errors are shown in place (in the action's dialog when it has one), with a normal 200 so
        # that HTMX swaps them in.
        return render_workspace(request, contract, errors_for=name, error_form=form, error_message=error)
    return render_workspace(request, contract, message=_("%(action)s: done.") % {"action": transition.label})


@login_required
@require_POST
def contract_renew(request, pk):
    """Start the renewal (续签): a new draft with this contract's terms for the period that follows,
    opened for editing."""
    contract = selectors.contract_get(user=request.user, pk=pk)
    if not policies.can_renew(request.user, contract):
        raise PermissionDenied
    try:
        successor = services.contract_renew(actor=request.user, contract=contract)
    except service_errors() as exc:
        raise_for_status(exc)
        if is_partial(request):
            return render_workspace(request, contract, error_message=getattr(exc, "message", str(exc)))
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("contracts:detail", pk=contract.pk)
    messages.success(request, _("Renewal %(number)s started: check its terms and dates.") % {"number": successor.number})
    url = reverse("contracts:update", args=[successor.pk])
    return hx_redirect(url) if is_partial(request) else redirect(url)


def _initial_from_query(request) -> dict:
    initial = {}
    customers = permissions.visible(request.user, Customer.objects.all())
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        parent = selectors.contract_queryset(user=request.user).filter(pk=parent_id, parent__isnull=True).first()
        if parent is not None:
            initial.update(parent=parent.pk, customer=parent.customer_id, nature=parent.nature,
                           subject_matter=parent.subject_matter, signing_form=parent.signing_form,
                           currency=parent.currency)
    customer_id = request.GET.get("customer", "")
    if "customer" not in initial and customer_id.isdigit() and customers.filter(pk=customer_id).exists():
        initial["customer"] = int(customer_id)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request):
    if not policies.can_create_contract(request.user):
        raise PermissionDenied
    form = ContractForm(request.POST or None, user=request.user,
                        initial=_initial_from_query(request) if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                contract = services.contract_create(actor=request.user, data=form.service_data())
            except service_errors() as exc:
                form_error(form, form.name_custom_errors(exc))
            else:
                messages.success(request, _("Contract %(number)s created.") % {"number": contract.number})
                return redirect("contracts:detail", pk=contract.pk)
    return render(request, "contracts/form.html", {"nav": "contracts", "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contract_update(request, pk):
    if request.method == "GET":
        # The edit form shows every fact of the contract: opening it is a view too.
        contract = selectors.contract_open(user=request.user, pk=pk, may=policies.can_edit_contract)
    else:
        contract = selectors.contract_get(user=request.user, pk=pk)
        if not policies.can_edit_contract(request.user, contract):
            raise PermissionDenied
    # The form writes into its instance while validating; keep the loaded one for the page.
    form = ContractForm(request.POST or None, instance=copy.copy(contract), user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                contract = services.contract_update(actor=request.user, contract=contract,
                                                    data=form.service_data(),
                                                    expected_version=form.cleaned_data["version"])
            except service_errors() as exc:
                status = form_error(form, form.name_custom_errors(exc))
            else:
                messages.success(request, _("Contract %(number)s saved.") % {"number": contract.number})
                return redirect("contracts:detail", pk=contract.pk)
    return render(request, "contracts/form.html", {"nav": "contracts", "form": form, "contract": contract},
                  status=status)
