"""Review and approval pages: the actions of the contract page's approval tab (each answers with the
whole workspace), the approver's inbox (待办) and the user's out-of-office delegation."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiyue.accounts import services as account_services
from qiyue.accounts.models import Delegation
from qiyue.accounts.policies import can_set_delegation
from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts.workspace import render_workspace
from qiyue.core.errors import ApplicationError, ErrorCode, service_errors
from qiyue.core.htmx import PAGE_SIZE, form_error, is_partial, raise_for_status
from qiyue.core.pagination import CappedPaginator

from . import checklist, policies, selectors, services
from .forms import DelegationForm

User = get_user_model()


def _int(post, name: str):
    """An id or version from the form: None when not sent; a clear `invalid` when it is no whole number."""
    value = (post.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={name: [_("Enter a whole number.")]})
    return int(value)


def _answer(request, contract, *, done: str = "", error=None, keep: bool = False):
    """The workspace with the outcome (the approval tab stays open), or back to the page without HTMX."""
    message = ""
    if error is not None:
        raise_for_status(error)  # not allowed, not found: the 403 and 404 pages
        message = getattr(error, "message", "") or _("Please correct the errors below.")
        fields = getattr(error, "fields", None) or {}
        details = [str(m) for key, items in fields.items() for m in items if str(m) != message]
        if details:
            message = f"{message} {' '.join(dict.fromkeys(details))}"
    if not is_partial(request):
        if message:
            messages.error(request, message)
        elif done:
            messages.success(request, done)
        return redirect(reverse("contracts:detail", args=[contract.pk]) + "#approval")
    contract = contract_selectors.contract_get(user=request.user, pk=contract.pk)
    response = render_workspace(request, contract, message=done if not message else "", decision_error=message,
                                decision_post=request.POST if keep and message else None)
    # The navigation bar's count of open tasks changes with a decision: swapped in beside the workspace.
    response.content += render_to_string("workflow/_nav_inbox.html", {
        "oob": True, "approval_inbox": selectors.inbox_count(user=request.user)}, request=request).encode()
    return response


def _checklist(post) -> dict | None:
    if not any(key.startswith("check-") for key in post):
        return None
    return {key: {"mark": post.get(f"check-{key}", ""), "note": post.get(f"note-{key}", "")}
            for key in checklist.KEYS}


@login_required
@require_POST
def prereview_run(request, pk):
    """Run the pre-review now; the workspace shows what it found (on its approval tab)."""
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    if not policies.can_run_prereview(request.user, contract):
        raise PermissionDenied
    run = services.prereview_run(actor=request.user, contract=contract)
    done = _("Pre-review done: %(count)s finding(s) to look at.") % {
        "count": sum(1 for f in run.findings if f["severity"] != "info")}
    if is_partial(request):
        return render_workspace(request, contract, message=done)
    messages.success(request, done)
    return redirect("contracts:detail", pk=pk)


DONE = {
    "approve": gettext_lazy("You approved."),
    "reject": gettext_lazy("You rejected the contract: it is back in draft."),
    "return": gettext_lazy("You returned the approval to an earlier step."),
}


@login_required
@require_POST
def decide(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    decision = request.POST.get("decision", "")
    try:
        services.approval_decide(
            actor=request.user, contract=contract, task_id=_int(request.POST, "task"), decision=decision,
            comment=request.POST.get("comment", ""), checklist_data=_checklist(request.POST),
            return_to=_int(request.POST, "return_to"), expected_version=_int(request.POST, "version"))
    except service_errors() as exc:
        return _answer(request, contract, error=exc, keep=True)
    return _answer(request, contract, done=str(DONE[decision]))


def _person(post, name: str):
    pk = _int(post, name)
    return User.objects.filter(pk=pk).select_related("team").first() if pk else None


@login_required
@require_POST
def transfer(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    try:
        services.approval_transfer(actor=request.user, contract=contract, task_id=_int(request.POST, "task"),
                                   to_user=_person(request.POST, "to"), comment=request.POST.get("comment", ""),
                                   expected_version=_int(request.POST, "version"))
    except service_errors() as exc:
        return _answer(request, contract, error=exc)
    return _answer(request, contract, done=_("Your task was transferred."))


@login_required
@require_POST
def add_approver(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    try:
        services.approval_add_approver(
            actor=request.user, contract=contract, task_id=_int(request.POST, "task"),
            user=_person(request.POST, "user"), position=request.POST.get("position", ""),
            comment=request.POST.get("comment", ""), expected_version=_int(request.POST, "version"))
    except service_errors() as exc:
        return _answer(request, contract, error=exc)
    return _answer(request, contract, done=_("The approver was added."))


@login_required
@require_POST
def withdraw(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    try:
        services.approval_withdraw(actor=request.user, contract=contract, reason=request.POST.get("reason", ""),
                                   expected_version=_int(request.POST, "version"))
    except service_errors() as exc:
        return _answer(request, contract, error=exc)
    return _answer(request, contract, done=_("The contract was withdrawn: it is back in draft."))


@login_required
@require_POST
def urge(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    try:
        services.approval_urge(actor=request.user, contract=contract)
    except service_errors() as exc:
        return _answer(request, contract, error=exc)
    return _answer(request, contract, done=_("The approvers were reminded."))


@login_required
@require_POST
def comment(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    try:
        services.approval_comment(actor=request.user, contract=contract, text=request.POST.get("text", ""),
                                  files=request.FILES.getlist("attachment"))
    except service_errors() as exc:
        return _answer(request, contract, error=exc)
    return _answer(request, contract, done=_("Your comment was added."))


@login_required
def inbox(request):
    """The approver's inbox: open tasks, longest waiting first; or what they decided."""
    done = request.GET.get("show") == "decided"
    rows = selectors.decided(user=request.user) if done else selectors.inbox(user=request.user)
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "workflow/_inbox_table.html" if is_partial(request) else "workflow/inbox.html"
    return render(request, template, {"nav": "inbox", "page": page, "done": done})


@login_required
def delegation(request):
    """Out of office: who decides my approval tasks while I am away."""
    user = request.user
    form = DelegationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.delegation_create(actor=user, user=user, delegate=form.cleaned_data["delegate"],
                                               starts_on=form.cleaned_data["starts_on"],
                                               ends_on=form.cleaned_data["ends_on"], note=form.cleaned_data["note"])
        except service_errors() as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your delegate is set."))
            return redirect("workflow:delegation")
    rows = Delegation.objects.filter(user=user).select_related("delegate").order_by("-starts_on", "-id")[:50]
    standing_in = (Delegation.objects.filter(delegate=user).select_related("user").order_by("-starts_on", "-id")[:50])
    return render(request, "workflow/delegation.html", {"nav": "delegation", "form": form, "rows": rows,
                                                        "standing_in": standing_in})


@login_required
@require_POST
def delegation_end(request, pk):
    row = Delegation.objects.filter(pk=pk).select_related("user").first()
    if row is None or not can_set_delegation(request.user, row.user):
        raise Http404  # someone else's delegation is as missing as one that never was
    account_services.delegation_end(actor=request.user, delegation=row)
    messages.success(request, _("The delegation ended."))
    return redirect("workflow:delegation")


@login_required
@require_POST
def reopen(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    try:
        services.approval_reopen(actor=request.user, contract=contract, reason=request.POST.get("reason", ""))
    except service_errors() as exc:
        return _answer(request, contract, error=exc)
    return _answer(request, contract, done=_("The contract is a draft again; its approval is void."))
