"""The contract page's amendments (变更): raise one, submit it for approval, record its signing, cancel
it; and the comparison of two versions of the contract. Each action answers with the whole workspace."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiyue.core.errors import ApplicationError, ErrorCode, service_errors
from qiyue.core.htmx import apply_error, is_partial, raise_for_status

from . import amendments, policies, selectors
from .forms import AmendmentForm, AmendmentSignForm
from .models import Amendment, ContractVersion
from .workspace import render_workspace


def _answer(request, contract, *, done: str = "", error=None, **extra):
    message = ""
    if error is not None:
        raise_for_status(error)
        message = getattr(error, "message", "") or _("Please correct the errors below.")
    if not is_partial(request):
        if message:
            messages.error(request, message)
        elif done:
            messages.success(request, done)
        return redirect("contracts:detail", pk=contract.pk)
    contract = selectors.contract_get(user=request.user, pk=contract.pk)
    return render_workspace(request, contract, message=done if not message else "", error_message=message, **extra)


def _amendment(request, pk) -> Amendment:
    """An amendment of a contract the user may see (else 404) and amend (else 403)."""
    amendment = get_object_or_404(Amendment.objects.select_related("contract"), pk=pk)
    contract = selectors.contract_get(user=request.user, pk=amendment.contract_id)
    if not policies.can_amend(request.user, contract):
        raise PermissionDenied
    return amendment


@login_required
@require_POST
def amendment_create(request, pk):
    contract = selectors.contract_get(user=request.user, pk=pk)
    if not policies.can_amend(request.user, contract):
        raise PermissionDenied
    form = AmendmentForm.for_contract(contract, request.POST)
    if not form.is_valid():
        return _answer(request, contract, error=_form_error(), amendment_form=form, open_dialog="dialog-amendment")
    try:
        amendments.amendment_create(actor=request.user, contract=contract, data=form.service_data())
    except service_errors() as exc:
        raise_for_status(exc)
        apply_error(form, exc)
        # A field's error opens the dialog again; one about the contract (not signed, an amendment under
        # way) shows above the tabs.
        dialog = "dialog-amendment" if getattr(exc, "fields", None) else ""
        return _answer(request, contract, error=exc, amendment_form=form, open_dialog=dialog)
    return _answer(request, contract, done=_("The amendment was saved as a draft: submit it for approval."))


def _form_error():
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."))


@login_required
@require_POST
def amendment_submit(request, pk):
    amendment = _amendment(request, pk)
    try:
        amendments.amendment_submit(actor=request.user, amendment=amendment)
    except service_errors() as exc:
        return _answer(request, amendment.contract, error=exc)
    return _answer(request, amendment.contract, done=_("The amendment was submitted for approval."))


@login_required
@require_POST
def amendment_sign(request, pk):
    amendment = _amendment(request, pk)
    form = AmendmentSignForm(request.POST, prefix=f"sign{amendment.pk}")
    if not form.is_valid():
        return _answer(request, amendment.contract, error=_form_error(), open_dialog=f"dialog-sign-amendment-{pk}")
    try:
        amendments.amendment_sign(actor=request.user, amendment=amendment, signed_on=form.cleaned_data["signed_on"],
                                  expected_version=form.cleaned_data.get("version"))
    except service_errors() as exc:
        return _answer(request, amendment.contract, error=exc, open_dialog=f"dialog-sign-amendment-{pk}")
    return _answer(request, amendment.contract, done=_("The amendment is signed: the contract's terms changed."))


@login_required
@require_POST
def amendment_cancel(request, pk):
    amendment = _amendment(request, pk)
    try:
        amendments.amendment_cancel(actor=request.user, amendment=amendment, reason=request.POST.get("reason", ""))
    except service_errors() as exc:
        return _answer(request, amendment.contract, error=exc, open_dialog=f"dialog-cancel-amendment-{pk}")
    return _answer(request, amendment.contract, done=_("The amendment was cancelled."))


@login_required
@require_GET
def version_compare(request, pk):
    contract = selectors.contract_get(user=request.user, pk=pk)
    numbers = [request.GET.get("a", ""), request.GET.get("b", "")]
    if not all(n.isdigit() and len(n) < 6 for n in numbers):
        raise Http404
    rows = {v.number: v for v in ContractVersion.objects.filter(contract=contract, number__in=map(int, numbers))}
    first, second = rows.get(int(numbers[0])), rows.get(int(numbers[1]))
    if first is None or second is None:
        raise Http404
    return render(request, "contracts/_version_compare.html", {
        "contract": contract, "first": first, "second": second, "rows": amendments.compare(first, second)})
