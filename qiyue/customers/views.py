"""Customer pages: thin views over the customer selectors and services."""

import copy

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from qiyue.accounts.selectors import filter_owners, filter_teams
from qiyue.audit.rendering import timeline_rows
from qiyue.audit.selectors import customer_timeline
from qiyue.core import permissions
from qiyue.core.errors import ApplicationError, service_errors
from qiyue.core.htmx import ServiceFormView, form_error, is_partial, paginate, render_page, style_form
from qiyue.core.selectors import get_or_404

from . import policies, selectors, services
from .errors import CustomerErrorCode
from .extensions import customer_sections, linkable_contracts
from .filters import CustomerFilter
from .forms import CommunicationForm, ContactForm, CustomerForm
from .models import Customer


def _require_edit(user, customer) -> None:
    if not policies.can_edit_customer(user, customer):
        raise PermissionDenied


@login_required
def customer_list(request):
    try:
        customers = selectors.customer_list(user=request.user, filters=request.GET)
        filter_errors = {}
    except ApplicationError as exc:
        customers, filter_errors = Customer.objects.none(), exc.fields
    filter_form = CustomerFilter(request.GET or None).form
    filter_form.fields["owner"].queryset = filter_owners(user=request.user)
    filter_form.fields["team"].queryset = filter_teams(user=request.user)
    tags = selectors.customer_tags(user=request.user, also=[request.GET.get("tag", "").strip()])
    filter_form.fields["tag"].widget = forms.Select(choices=[("", _("Any tag")), *((t, t) for t in tags)],
                                                    attrs={"translate": "no"})
    style_form(filter_form)
    context = {
        "nav": "customers",
        "filter_errors": filter_errors,
        "page": paginate(request, customers),
        "filter_form": filter_form,
        "can_create": policies.can_create_customer(request.user),
    }
    return render_page(request, "customers/list.html", "customers/_table.html", context)


# The customer page's timeline shows the newest events (a customer with thousands of contracts has far
# more); the audit log has them all.
TIMELINE_EVENTS = 50
# The customer page lists the newest communications; the full list is one click away.
PAGE_COMMUNICATIONS = 50


def _panel_context(request, customer, *, contact_form=None, communication_form=None) -> dict:
    communications = list(selectors.communication_list(user=request.user).filter(customer=customer)
                          [:PAGE_COMMUNICATIONS])
    for record in communications:
        record.contract_visible = record.contract_id is not None and permissions.can_see(request.user,
                                                                                           record.contract)
    return {
        "customer": customer,
        "can_edit": policies.can_edit_customer(request.user, customer),
        "contacts": selectors.contact_list(user=request.user).filter(customer=customer),
        "communications": communications,
        "contact_form": contact_form or ContactForm(prefix="contact"),
        "communication_form": communication_form or CommunicationForm(
            prefix="comm", contracts=linkable_contracts(user=request.user, customer=customer)),
    }


@login_required
def customer_detail(request, pk):
    customer = selectors.customer_open(user=request.user, pk=pk)
    context = _panel_context(request, customer)
    context["nav"] = "customers"
    # The contracts section and whatever else apps above customers add (see extensions.py).
    context.update(customer_sections(user=request.user, customer=customer))
    context["tabs"] = _tabs(context)
    return render(request, "customers/detail.html", context)


@login_required
def customer_timeline_panel(request, pk):
    """The customer page's timeline tab, loaded when it is first shown: fifty events with their changes are
    a quarter of the page's work, and most visits never open the tab."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    events = customer_timeline(user=request.user, customer_id=customer.pk, limit=TIMELINE_EVENTS + 1)
    return render(request, "customers/_timeline.html", {
        "customer": customer,
        "timeline": timeline_rows(events[:TIMELINE_EVENTS], request.user),
        "timeline_more": TIMELINE_EVENTS if len(events) > TIMELINE_EVENTS else 0,
    })


def _tabs(context) -> list[dict]:
    """The customer page's tabs, the contracts and contacts with their counts."""
    contacts = context["contacts"] = list(context["contacts"])
    return [
        {"key": "overview", "label": _("Overview"), "icon": "bi-card-text"},
        {"key": "contracts", "label": _("Contracts"), "icon": "bi-file-earmark-text",
         "count": context.get("contract_count", 0)},
        {"key": "contacts", "label": _("Contacts"), "icon": "bi-person-lines-fill", "count": len(contacts)},
        {"key": "communications", "label": _("Communications"), "icon": "bi-chat-left-text"},
        {"key": "documents", "label": _("Documents"), "icon": "bi-files"},
        {"key": "timeline", "label": _("Timeline"), "icon": "bi-clock-history"},
    ]


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    if not policies.can_create_customer(request.user):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, user=request.user)
    status, duplicate = 200, False
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                customer = services.customer_create(actor=request.user, data=form.service_data(),
                                                    confirm_duplicate=form.cleaned_data["confirm_duplicate"])
            except service_errors() as exc:
                duplicate = getattr(exc, "code", "") == CustomerErrorCode.DUPLICATE_CUSTOMER
                form_error(form, exc)
            else:
                messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
                return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html",
                  {"nav": "customers", "form": form, "duplicate": duplicate}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_update(request, pk):
    if request.method == "GET":
        # The edit form shows every fact of the customer: opening it is a view too.
        customer = selectors.customer_open(user=request.user, pk=pk, may=policies.can_edit_customer)
    else:
        customer = selectors.customer_get(user=request.user, pk=pk)
        _require_edit(request.user, customer)
    # The form writes into its instance while validating; keep the loaded one for the page.
    form = CustomerForm(request.POST or None, instance=copy.copy(customer), user=request.user)
    status, duplicate = 200, False
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                customer = services.customer_update(
                    actor=request.user, customer=customer, data=form.service_data(),
                    expected_version=form.cleaned_data["version"],
                    confirm_duplicate=form.cleaned_data["confirm_duplicate"])
            except service_errors() as exc:
                duplicate = getattr(exc, "code", "") == CustomerErrorCode.DUPLICATE_CUSTOMER
                status = form_error(form, exc)
            else:
                messages.success(request, _("Customer “%(name)s” saved.") % {"name": customer.name})
                return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html",
                  {"nav": "customers", "form": form, "customer": customer, "duplicate": duplicate}, status=status)


def _panel_response(request, customer, template: str, **forms):
    return render(request, template, _panel_context(request, customer, **forms))


class _CustomerFormView(ServiceFormView):
    """A form on a customer the user may edit: its contacts and communication records."""

    def load(self):
        self.customer = selectors.customer_get(user=self.request.user, pk=self.kwargs["pk"])

    def allowed(self):
        return policies.can_edit_customer(self.request.user, self.customer)

    def redirect_url(self):
        return reverse("customers:detail", args=[self.customer.pk])

    def page_context(self, form):
        return {"nav": "customers", "customer": self.customer, "form": form}


class ContactCreate(_CustomerFormView):
    http_method_names = ["post"]
    form_class = ContactForm
    template_name = "customers/contact_form.html"
    partial_template = "customers/_contacts.html"
    success_message = _("Contact added.")

    def form_kwargs(self):
        return {"prefix": "contact"}

    def save(self, form):
        services.contact_create(actor=self.request.user, customer=self.customer, data=form.cleaned_data)

    def partial_context(self, form, error, message):
        return _panel_context(self.request, self.customer, contact_form=form if error else None)


def _get_contact(request, customer, contact_pk):
    return get_or_404(selectors.contact_list(user=request.user).filter(customer=customer), contact_pk)


class ContactUpdate(_CustomerFormView):
    form_class = ContactForm
    template_name = "customers/contact_form.html"
    success_message = _("Contact saved.")

    def load(self):
        super().load()
        self.contact = _get_contact(self.request, self.customer, self.kwargs["contact_pk"])

    def form_kwargs(self):
        # The form writes into its instance while validating; the service updates the loaded one.
        return {"instance": copy.copy(self.contact), "prefix": "contact"}

    def save(self, form):
        services.contact_update(actor=self.request.user, contact=self.contact, data=form.cleaned_data)

    def page_context(self, form):
        return {**super().page_context(form), "contact": self.contact}


@login_required
@require_POST
def contact_delete(request, pk, contact_pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    contact = _get_contact(request, customer, contact_pk)
    _require_edit(request.user, customer)
    services.contact_delete(actor=request.user, contact=contact)
    if is_partial(request):
        return _panel_response(request, customer, "customers/_contacts.html")
    messages.success(request, _("Contact removed."))
    return redirect("customers:detail", pk=customer.pk)


class CommunicationCreate(_CustomerFormView):
    http_method_names = ["post"]
    form_class = CommunicationForm
    template_name = "customers/communication_form.html"
    partial_template = "customers/_communications.html"
    success_message = _("Communication recorded.")

    def form_kwargs(self):
        return {"prefix": "comm", "contracts": linkable_contracts(user=self.request.user, customer=self.customer)}

    def save(self, form):
        services.communication_create(actor=self.request.user, customer=self.customer, data=form.cleaned_data)

    def partial_context(self, form, error, message):
        return _panel_context(self.request, self.customer, communication_form=form if error else None)

