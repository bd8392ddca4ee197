"""Finance's receivables page: every installment still owed on the contracts the user may see, as of a
day, filtered, with the totals per currency and aging bucket, the Excel export (audited) and, for
finance, recording the selected installments as paid in full in one go."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from qiyue.accounts.selectors import filter_owners
from qiyue.audit.services import access_record
from qiyue.contracts import selectors as contract_selectors
from qiyue.core.errors import service_errors
from qiyue.core.htmx import paginate
from qiyue.core.validators import ISO_4217, MAX_ID

from . import money, policies, receivables, services
from .models import Installment, PaymentMethod

BUCKET_LABELS = {"overdue": gettext_lazy("Overdue (any age)"), "not_due": gettext_lazy("Not yet due"),
                 "d1_30": gettext_lazy("1–30 days"), "d31_60": gettext_lazy("31–60 days"),
                 "d61_90": gettext_lazy("61–90 days"), "over_90": gettext_lazy("Over 90 days"),
                 "undated": gettext_lazy("No due date yet")}
MAX_BULK = 100


class ReceivableFilter(forms.Form):
    as_of = forms.DateField(label=gettext_lazy("As of"), required=False)
    bucket = forms.ChoiceField(label=gettext_lazy("Age"), required=False,
                               choices=[("", gettext_lazy("Any age")), *BUCKET_LABELS.items()])
    customer = forms.IntegerField(label=gettext_lazy("customer id"), required=False, min_value=1, max_value=MAX_ID)
    owner = forms.IntegerField(label=gettext_lazy("owner"), required=False, min_value=1, max_value=MAX_ID)
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)
    contract = forms.CharField(label=gettext_lazy("Contract number"), required=False, max_length=64)
    due_after = forms.DateField(label=gettext_lazy("Due from"), required=False)
    due_before = forms.DateField(label=gettext_lazy("Due until"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("due_after") and data.get("due_before") and data["due_after"] > data["due_before"]:
            self.add_error("due_before", _("Choose a day on or after the first."))
        return data

    def clean_currency(self):
        value = self.cleaned_data["currency"].strip().upper()
        if value and value not in ISO_4217:
            raise forms.ValidationError(_("Not a currency code."))
        return value

    def clean_as_of(self):
        value = self.cleaned_data["as_of"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("Choose today or a day before."))
        return value


def _filtered(request):
    form = ReceivableFilter(request.GET or None)
    today = timezone.localdate()
    if request.GET and not form.is_valid():
        return form, today, None
    data = form.cleaned_data if request.GET else {}
    as_of = data.get("as_of") or today
    rows = receivables.receivable_rows(user=request.user, as_of=as_of, customer=data.get("customer"),
                                       currency=data.get("currency", ""), bucket=data.get("bucket", ""),
                                       owner=data.get("owner"), contract_number=(data.get("contract") or "").strip(),
                                       due_after=data.get("due_after"), due_before=data.get("due_before"))
    return form, as_of, rows


@login_required
@require_GET
def receivable_list(request):
    form, as_of, rows = _filtered(request)
    today = timezone.localdate()
    page = (paginate(request, rows, parts=receivables.parts(rows, request.user)) if rows is not None
            else paginate(request, Installment.objects.none()))
    page_rows = (receivables.rows_as_of(receivables.with_contracts(page.object_list), as_of, today)
                 if rows is not None else [])
    may_record = policies.is_money_user(request.user)
    for row in page_rows:
        row.may_pay = (may_record and as_of == today and row.installment.contract.status in policies.OWING_STATUSES)
    labels = dict(BUCKET_LABELS)
    data = form.cleaned_data if form.is_bound and rows is not None else {}
    if rows is None:
        totals = []
    elif as_of == today and not any(data.get(name) for name in data if name not in ("as_of", *receivables.STAT_FILTERS)):
        # Today's totals, filtered as the maintained receivables are kept: from them, in one query.
        totals = receivables.stat_totals(user=request.user, today=today,
                                         **{name: data[name] for name in receivables.STAT_FILTERS if data.get(name)})
    else:
        totals = receivables.totals(rows, as_of, today)
    return render(request, "finance/receivables.html", {
        "nav": "receivables",
        "form": form,
        "as_of": as_of,
        "today": today,
        "page": page,
        "rows": page_rows,
        "totals": totals,
        "cny": receivables.cny_equivalent(totals, as_of),
        "totals_limit": receivables.TOTALS_LIMIT,
        "aging_labels": [(key, labels[key]) for key in money.AGING_BUCKETS],
        "owners": filter_owners(user=request.user),
        "may_record": may_record and as_of == today,
        "methods": PaymentMethod.choices,
        "max_bulk": MAX_BULK,
        "export_query": request.GET.urlencode(),
    })


@login_required
@require_GET
def receivable_export(request):
    form, as_of, rows = _filtered(request)
    if rows is None:
        return redirect("finance:receivables")
    access_record(actor=request.user, action="receivables.exported",
                  target=(Installment, f"{as_of.isoformat()}: {request.GET.urlencode()}"[:200]))
    return receivables.xlsx_response(rows, as_of, timezone.localdate())


@login_required
@require_POST
def receivable_pay(request):
    """Record the selected installments as paid in full, each by its own payment (finance)."""
    if not policies.is_money_user(request.user):
        raise PermissionDenied
    ids = request.POST.getlist("installment")
    back = redirect(reverse("finance:receivables") + "?" + request.POST.get("back", "")[:2000])
    if not ids:
        messages.error(request, _("Choose the installments that were paid."))
        return back
    if len(ids) > MAX_BULK or not all(i.isdigit() and len(i) <= 18 for i in ids):
        messages.error(request, _("Choose at most %(n)d installments.") % {"n": MAX_BULK})
        return back
    data = {name: request.POST.get(name, "") for name in ("received_on", "method", "bank_reference", "payer")}
    rows = (Installment.objects.filter(pk__in=[int(i) for i in ids],
                                       contract__in=contract_selectors.contract_queryset(user=request.user)
                                       .values("pk"))
            .select_related("contract").order_by("contract_id", "position"))
    done, failed = 0, []
    for row in rows:
        try:
            services.payment_record(actor=request.user, contract=row.contract,
                                    allocations={row.pk: row.outstanding},
                                    data={**data, "amount": row.outstanding})
            done += 1
        except service_errors() as exc:
            failed.append(f"{row.contract.number} #{row.position}: {getattr(exc, 'message', exc)}")
    if done:
        messages.success(request, _("%(n)d payments recorded.") % {"n": done})
    for line in failed[:20]:
        messages.error(request, line)
    return back

