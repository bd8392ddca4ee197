from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts.workspace import render_workspace
from qiyue.core.htmx import is_partial

from . import policies, services


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
