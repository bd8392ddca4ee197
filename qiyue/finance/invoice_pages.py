"""The Invoices page: every invoice of the contracts the user may see, filtered, newest first; finance
imports the tax platform's export here (the answer shows what each row did, or every row's problem)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from qiyue.core.errors import service_errors
from qiyue.core.htmx import paginate, raise_for_status

from . import invoice_file, policies, selectors, services
from .filters import InvoiceFilter
from .models import InvoiceKind, InvoiceStatus


def _page(request, *, result=None, errors=None, error_message="", status=200):
    rows = (selectors.invoices_of(user=request.user).select_related("contract", "customer", "reverses")
            .order_by("-created_at", "-id"))
    filters = InvoiceFilter(request.GET, queryset=rows)
    if filters.is_valid():
        rows = filters.qs
    else:
        rows = rows.none()
    return render(request, "finance/invoices.html", {
        "nav": "invoices",
        "page": paginate(request, rows),
        "filters": filters,
        "statuses": InvoiceStatus.choices,
        "kinds": InvoiceKind.choices,
        "may_import": policies.is_money_user(request.user),
        "result": result,
        "errors": errors or [],
        "error_message": error_message,
        "max_rows": invoice_file.MAX_ROWS,
    }, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def invoice_list(request):
    return _page(request)


@login_required
@require_POST
def invoice_import(request):
    if not policies.is_money_user(request.user):
        raise PermissionDenied
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, errors=[_("Choose the export file to import.")],
                     error_message=_("Nothing was imported."), status=400)
    if upload.size > invoice_file.MAX_BYTES:
        return _page(request, errors=[_("The file is larger than %(mb)d MB.") % {"mb": 5}],
                     error_message=_("Nothing was imported."), status=400)
    try:
        result = services.invoice_import(actor=request.user, content=upload.read(), filename=upload.name or "",
                                         over_contract_reason=request.POST.get("over_contract_reason", "")[:1000])
    except service_errors() as exc:
        raise_for_status(exc)
        fields = getattr(exc, "fields", None) or {}
        errors = [str(m) for items in fields.values() for m in items] or [str(getattr(exc, "message", exc))]
        return _page(request, errors=errors, error_message=str(getattr(exc, "message", "")), status=400)
    return _page(request, result=result)
