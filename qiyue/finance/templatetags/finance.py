"""Execution and money's parts of the contract workspace: the money tab (summary, installments with
what is derived from today, payments, and the plan and payment dialogs) and the execution tab
(progress and obligations)."""

import uuid
from decimal import Decimal

from django import template
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.policies import can_see_contract, can_take
from qiyue.contracts.transitions import TRANSITIONS
from qiyue.documents.selectors import document_list

from .. import money, policies, selectors
from ..forms import plan_rows
from ..models import (
    DIGITAL_KINDS,
    InvoiceKind,
    InvoiceStatus,
    IssueKind,
    IssueStatus,
    ObligationStatus,
    Party,
    PaymentMethod,
    RedLetterReason,
    Severity,
)

register = template.Library()


def _aging_rows(aging: dict) -> list[tuple[str, object]]:
    labels = {"not_due": _("Not yet due"), "d1_30": _("1–30 days"), "d31_60": _("31–60 days"),
              "d61_90": _("61–90 days"), "over_90": _("Over 90 days")}
    return [(key, labels[key], aging.get(key, 0)) for key in money.AGING_BUCKETS]


def _summary(contract):
    """The contract's money, computed once per page (both tabs show it)."""
    summary = getattr(contract, "_money_summary", None)
    if summary is None:
        summary = contract._money_summary = selectors.contract_money(contract=contract)
    return summary


def _finance_state(context) -> dict:
    return {"finance_error": context.get("finance_error", ""), "finance_dialog": context.get("finance_dialog", ""),
            "finance_post": context.get("finance_post")}


@register.inclusion_tag("finance/_money_panel.html", takes_context=True)
def money_panel(context, contract):
    request = context["request"]
    user = request.user
    summary = _summary(contract)
    obligations = list(contract.obligations.exclude(status=ObligationStatus.CANCELLED).order_by("due_date", "id"))
    post = context.get("finance_post")
    # After a refused save, the editor as the user left it.
    rows = plan_rows(post, keep_empty=True) if post is not None and context.get("finance_dialog") == "dialog-plan" else None
    for payment in summary.payments:
        payment.dialog_id = f"dialog-reverse-{payment.pk}"
    return {
        **_finance_state(context),
        "contract": contract, "request": request, "csrf_token": context.get("csrf_token"),
        "summary": summary,
        "allocating": post is not None and any(k.startswith("allocate-") and v.strip() for k, v in post.items()),
        "aging_rows": _aging_rows(summary.aging),
        "has_overdue": summary.overdue > 0,
        "may_edit_plan": policies.can_edit_plan(user, contract),
        "may_record": policies.can_record_payment(user, contract),
        "owing": contract.status in policies.OWING_STATUSES,
        "plan_rows": rows,
        "obligations": obligations,
        "methods": PaymentMethod.choices,
        "form_key": uuid.uuid4().hex,
        "today": timezone.localdate(),
    }


@register.inclusion_tag("finance/_execution_panel.html", takes_context=True)
def execution_panel(context, contract):
    request = context["request"]
    user = request.user
    rows = selectors.contract_obligations(contract=contract)
    done, counted = selectors.obligation_progress(rows)
    summary = _summary(contract)
    may_manage = policies.can_manage_obligations(user, contract)
    for row in rows:
        row.may_close = policies.can_close_obligation(user, row.obligation)
        row.dialog_suffix = str(row.obligation.pk)
        row.done_dialog = f"dialog-done-{row.obligation.pk}"
        row.waive_dialog = f"dialog-waive-{row.obligation.pk}"
    issues = selectors.contract_issues(contract=contract)
    may_manage_issues = policies.can_manage_issues(user, contract)
    for issue in issues:
        issue.may_resolve = policies.can_resolve_issue(user, issue)
        issue.edit_dialog = f"dialog-issue-{issue.pk}"
        issue.resolve_dialog = f"dialog-issue-resolve-{issue.pk}"
    people = []
    if may_manage or may_manage_issues:
        people = [p for p in get_user_model().objects.filter(is_active=True).select_related("team")
                  .order_by("role", "username")[:500] if can_see_contract(p, contract)]
    documents = list(document_list(user=user, contract_id=contract.pk)[:50]) if any(r.may_close for r in rows) else []
    complete = TRANSITIONS["complete"]
    proposal = (contract.status in complete.sources and done == counted and summary.outstanding == 0
                and summary.received >= summary.contracted and can_take(user, contract, complete))
    return {
        **_finance_state(context),
        "contract": contract, "request": request, "csrf_token": context.get("csrf_token"),
        "propose_completion": proposal,
        "rows": rows, "done": done, "counted": counted,
        "done_share": int(done * 100 / counted) if counted else 0,
        "summary": summary,
        "may_manage": may_manage,
        "parties": Party.choices,
        "issues": issues,
        "open_issues": sum(1 for i in issues if i.status == IssueStatus.OPEN),
        "may_manage_issues": may_manage_issues,
        "issue_kinds": IssueKind.choices,
        "severities": Severity.choices,
        "people": people,
        "documents": documents,
        "today": timezone.localdate(),
    }


COMMON_RATES = ("13", "9", "6", "5", "3", "1", "0")


@register.inclusion_tag("finance/_invoice_panel.html", takes_context=True)
def invoice_panel(context, contract):
    request = context["request"]
    user = request.user
    summary = _summary(contract)
    may_record = policies.can_record_invoice(user, contract)
    for invoice in summary.invoices:
        invoice.issue_dialog = f"dialog-invoice-issue-{invoice.pk}"
        invoice.red_dialog = f"dialog-invoice-red-{invoice.pk}"
        invoice.void_dialog = f"dialog-invoice-void-{invoice.pk}"
        invoice.withdraw_dialog = f"dialog-invoice-withdraw-{invoice.pk}"
        invoice.may_withdraw = (invoice.status == InvoiceStatus.REQUESTED
                                and policies.can_withdraw_invoice_request(user, invoice))
        live_red = [r for r in summary.invoices if r.reverses_id == invoice.pk and r.status == InvoiceStatus.ISSUED]
        invoice.may_void = (may_record and invoice.status == InvoiceStatus.ISSUED and not invoice.is_red
                            and invoice.kind not in DIGITAL_KINDS and not live_red)
        if may_record and invoice.status == InvoiceStatus.ISSUED and not invoice.is_red:
            invoice.red_room = invoice.total - sum((r.total for r in live_red), Decimal("0"))
    rate = f"{contract.tax_rate.normalize():f}"
    return {
        **_finance_state(context),
        "contract": contract, "request": request, "csrf_token": context.get("csrf_token"),
        "summary": summary,
        "invoiced_unpaid": max(summary.invoiced - summary.received, Decimal("0")),
        "may_request": policies.can_request_invoice(user, contract),
        "may_record": may_record and contract.status in policies.OWING_STATUSES,
        "owing": contract.status in policies.OWING_STATUSES,
        "installments": [row for row in summary.rows if row.outstanding > 0],
        "kinds": InvoiceKind.choices,
        "red_reasons": RedLetterReason.choices,
        "rates": list(dict.fromkeys((rate, *COMMON_RATES))),
        "today": timezone.localdate(),
    }


@register.filter
def equals(value, other) -> bool:
    """`{% with again=finance_dialog|equals:dialog_id %}`: whether a dialog is the one to open again."""
    return str(value) == str(other)


@register.inclusion_tag("finance/_dashboard_receivables.html", takes_context=True)
def receivables_panel(context):
    """The dashboard's receivables card (qiyue.finance.dashboard)."""
    from ..dashboard import receivable_charts

    return receivable_charts(user=context["request"].user, today=timezone.localdate())
