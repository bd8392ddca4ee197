"""The contract page's execution and money tabs: each action is a small POST that calls one service
and answers with the whole workspace (the tab stays open; a refused action opens its dialog again with
the reason and what was entered)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts.workspace import render_workspace
from qiyue.core.errors import ApplicationError, ErrorCode, service_errors
from qiyue.core.htmx import is_partial, raise_for_status

from . import selectors, services
from .forms import plan_rows


def _int(value: str | None, name: str):
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={name: [_("Enter a whole number.")]})
    return int(value)


def _message(error) -> str:
    message = getattr(error, "message", "") or _("Please correct the errors below.")
    fields = getattr(error, "fields", None) or {}
    if not fields and hasattr(error, "message_dict"):
        fields = error.message_dict
    details = [str(m) for items in fields.values() for m in items if str(m) != message]
    if details:
        message = f"{message} {' '.join(dict.fromkeys(details))}"
    return message


def _answer(request, contract, *, tab: str, done: str = "", error=None, dialog: str = ""):
    """The workspace with the outcome on `tab`, or back to the page (and the tab) without HTMX."""
    message = ""
    if error is not None:
        raise_for_status(error)  # not allowed, not found: the 403 and 404 pages
        message = _message(error)
    if not is_partial(request):
        if message:
            messages.error(request, message)
        elif done:
            messages.success(request, done)
        return redirect(reverse("contracts:detail", args=[contract.pk]) + f"#{tab}")
    contract = contract_selectors.contract_get(user=request.user, pk=contract.pk)
    return render_workspace(request, contract, message=done if not message else "", finance_error=message,
                            finance_dialog=dialog if message else "", finance_post=request.POST if message else None)


def _contract(request, pk):
    return contract_selectors.contract_get(user=request.user, pk=pk)


@login_required
@require_POST
def plan_save(request, pk):
    contract = _contract(request, pk)
    try:
        services.payment_plan_save(actor=request.user, contract=contract, installments=plan_rows(request.POST),
                                   expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog="dialog-plan")
    return _answer(request, contract, tab="money", done=_("The payment plan is saved."))


@login_required
@require_POST
def payment_record(request, pk):
    contract = _contract(request, pk)
    post = request.POST
    allocations = {}
    for key, value in post.items():
        if key.startswith("allocate-") and value.strip():
            allocations[key.removeprefix("allocate-")] = value
    try:
        payment, _created = services.payment_record(
            actor=request.user, contract=contract, allocations=allocations or None,
            as_advance=post.get("as_advance") == "on",
            # A double click or a resent form records one payment: the form carries its own key.
            idempotency_key=post.get("form_key", "")[:100], request_fingerprint=services.fingerprint(
                {k: post.getlist(k) for k in sorted(post) if k != "csrfmiddlewaretoken"}),
            data={name: post.get(name, "") for name in ("amount", "received_on", "method", "bank_reference",
                                                         "payer", "note")})
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog="dialog-payment")
    return _answer(request, contract, tab="money", done=_("The payment of %(amount)s is recorded.") % {
        "amount": services.money_text(payment.amount, payment.currency)})


@login_required
@require_POST
def payment_reverse(request, pk, payment_pk):
    contract = _contract(request, pk)
    try:
        payment = selectors.payments_of(user=request.user).get(pk=payment_pk, contract=contract)
    except ObjectDoesNotExist:
        raise Http404 from None
    try:
        services.payment_reverse(actor=request.user, payment=payment, reason=request.POST.get("reason", ""))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog=f"dialog-reverse-{payment.pk}")
    return _answer(request, contract, tab="money", done=_("The payment is reversed; its installments are owed again."))


def _obligation(request, pk, obligation_pk):
    contract = _contract(request, pk)
    try:
        return contract, selectors.obligations_of(user=request.user).select_related("contract").get(
            pk=obligation_pk, contract=contract)
    except ObjectDoesNotExist:
        raise Http404 from None


OBLIGATION_DATA = ("party", "description", "due_date", "owner")


@login_required
@require_POST
def obligation_create(request, pk):
    contract = _contract(request, pk)
    try:
        services.obligation_create(actor=request.user, contract=contract,
                                   data={name: request.POST.get(name, "") for name in OBLIGATION_DATA})
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog="dialog-obligation-new")
    return _answer(request, contract, tab="execution", done=_("The obligation is added."))


@login_required
@require_POST
def obligation_update(request, pk, obligation_pk):
    contract, obligation = _obligation(request, pk, obligation_pk)
    try:
        services.obligation_update(actor=request.user, obligation=obligation,
                                   data={name: request.POST.get(name, "") for name in OBLIGATION_DATA},
                                   expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog=f"dialog-obligation-{obligation.pk}")
    return _answer(request, contract, tab="execution", done=_("The obligation is saved."))


@login_required
@require_POST
def obligation_complete(request, pk, obligation_pk):
    contract, obligation = _obligation(request, pk, obligation_pk)
    try:
        services.obligation_complete(actor=request.user, obligation=obligation,
                                     done_on=request.POST.get("done_on", ""),
                                     evidence=request.POST.get("evidence") or None,
                                     expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog=f"dialog-done-{obligation.pk}")
    return _answer(request, contract, tab="execution", done=_("The obligation is done."))


@login_required
@require_POST
def obligation_waive(request, pk, obligation_pk):
    contract, obligation = _obligation(request, pk, obligation_pk)
    try:
        services.obligation_waive(actor=request.user, obligation=obligation, reason=request.POST.get("reason", ""),
                                  expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog=f"dialog-waive-{obligation.pk}")
    return _answer(request, contract, tab="execution", done=_("The obligation is waived."))


@login_required
@require_POST
def obligation_reopen(request, pk, obligation_pk):
    contract, obligation = _obligation(request, pk, obligation_pk)
    try:
        services.obligation_reopen(actor=request.user, obligation=obligation,
                                   expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc)
    return _answer(request, contract, tab="execution", done=_("The obligation is open again."))


# --- Invoices ------------------------------------------------------------------------------------------

INVOICE_DATA = ("kind", "total", "tax_rate", "installment", "note", "buyer_name", "buyer_taxpayer_id", "code",
                "number", "issued_on", "over_contract_reason")


def _invoice(request, pk, invoice_pk):
    contract = _contract(request, pk)
    try:
        return contract, selectors.invoices_of(user=request.user).select_related("contract").get(
            pk=invoice_pk, contract=contract)
    except ObjectDoesNotExist:
        raise Http404 from None


def _invoice_data(post) -> dict:
    return {name: post.get(name, "") for name in INVOICE_DATA if name in post}


@login_required
@require_POST
def invoice_create(request, pk):
    """Request an invoice, or (finance, `status=issued`) record one the platform issued."""
    contract = _contract(request, pk)
    issued = request.POST.get("status") == "issued"
    try:
        if issued:
            services.invoice_record(actor=request.user, contract=contract, data=_invoice_data(request.POST))
        else:
            services.invoice_request(actor=request.user, contract=contract, data=_invoice_data(request.POST))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc,
                       dialog="dialog-invoice-record" if issued else "dialog-invoice-request")
    return _answer(request, contract, tab="money",
                   done=_("The invoice is recorded.") if issued else _("The invoice is requested."))


@login_required
@require_POST
def invoice_issue(request, pk, invoice_pk):
    contract, invoice = _invoice(request, pk, invoice_pk)
    try:
        services.invoice_issue(actor=request.user, invoice=invoice, data=_invoice_data(request.POST),
                               expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog=f"dialog-invoice-issue-{invoice.pk}")
    return _answer(request, contract, tab="money", done=_("The issued invoice is recorded."))


@login_required
@require_POST
def invoice_withdraw(request, pk, invoice_pk):
    contract, invoice = _invoice(request, pk, invoice_pk)
    try:
        services.invoice_withdraw(actor=request.user, invoice=invoice, reason=request.POST.get("reason", ""),
                                  expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog=f"dialog-invoice-withdraw-{invoice.pk}")
    return _answer(request, contract, tab="money", done=_("The invoice request is withdrawn."))


@login_required
@require_POST
def invoice_void(request, pk, invoice_pk):
    contract, invoice = _invoice(request, pk, invoice_pk)
    try:
        services.invoice_void(actor=request.user, invoice=invoice, reason=request.POST.get("reason", ""),
                              expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog=f"dialog-invoice-void-{invoice.pk}")
    return _answer(request, contract, tab="money", done=_("The invoice is voided."))


@login_required
@require_POST
def invoice_red_letter(request, pk, invoice_pk):
    contract, invoice = _invoice(request, pk, invoice_pk)
    data = {name: request.POST.get(name, "") for name in ("code", "number", "issued_on", "total", "red_reason",
                                                           "red_confirmation", "reason") if name in request.POST}
    try:
        services.invoice_red_letter(actor=request.user, invoice=invoice, data=data,
                                    expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="money", error=exc, dialog=f"dialog-invoice-red-{invoice.pk}")
    return _answer(request, contract, tab="money", done=_("The red-letter invoice is recorded."))


# --- Issues and risks ------------------------------------------------------------------------------

ISSUE_DATA = ("kind", "title", "description", "severity", "owner", "due_date")


def _issue(request, pk, issue_pk):
    contract = _contract(request, pk)
    try:
        return contract, selectors.issues_of(user=request.user).select_related("contract").get(
            pk=issue_pk, contract=contract)
    except ObjectDoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def issue_create(request, pk):
    contract = _contract(request, pk)
    try:
        services.issue_create(actor=request.user, contract=contract,
                              data={name: request.POST.get(name, "") for name in ISSUE_DATA})
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog="dialog-issue-new")
    return _answer(request, contract, tab="execution", done=_("The issue is noted."))


@login_required
@require_POST
def issue_update(request, pk, issue_pk):
    contract, issue = _issue(request, pk, issue_pk)
    try:
        services.issue_update(actor=request.user, issue=issue,
                              data={name: request.POST.get(name, "") for name in ISSUE_DATA},
                              expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog=f"dialog-issue-{issue.pk}")
    return _answer(request, contract, tab="execution", done=_("The issue is saved."))


@login_required
@require_POST
def issue_resolve(request, pk, issue_pk):
    contract, issue = _issue(request, pk, issue_pk)
    try:
        services.issue_resolve(actor=request.user, issue=issue, resolution=request.POST.get("resolution", ""),
                               expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc, dialog=f"dialog-issue-resolve-{issue.pk}")
    return _answer(request, contract, tab="execution", done=_("The issue is resolved."))


@login_required
@require_POST
def issue_reopen(request, pk, issue_pk):
    contract, issue = _issue(request, pk, issue_pk)
    try:
        services.issue_reopen(actor=request.user, issue=issue,
                              expected_version=_int(request.POST.get("version"), "version"))
    except service_errors() as exc:
        return _answer(request, contract, tab="execution", error=exc)
    return _answer(request, contract, tab="execution", done=_("The issue is open again."))
