"""Execution and money API: a contract's money summary and payment plan, its payments (recorded, listed,
reversed) and its obligations (added, changed, completed, waived, reopened). Thin: load the contract,
payment or obligation through the selectors (one the user may not see is 404), check the policy (403),
validate the input, call one service (qiyue.finance.services: the money rules, the object's state),
render the output."""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts.models import Contract
from qiyue.core.api import ServiceViewMixin, require_version
from qiyue.core.errors import permission_denied
from qiyue.core.selectors import get_or_404

from .. import policies, receivables, selectors, services
from ..filters import InvoiceFilter, PaymentFilter
from ..models import (
    ContractIssue,
    Installment,
    Invoice,
    InvoiceStatus,
    Obligation,
    Payment,
    PaymentAllocation,
)
from .serializers import (
    InvoiceCreateInput,
    InvoiceImportInput,
    InvoiceImportOutput,
    InvoiceIssueInput,
    InvoiceOutput,
    InvoiceReasonInput,
    IssueInput,
    IssueOutput,
    IssueReopenInput,
    IssueResolveInput,
    IssueUpdateInput,
    MoneyOutput,
    MoneyQuery,
    ObligationCompleteInput,
    ObligationInput,
    ObligationOutput,
    ObligationReopenInput,
    ObligationUpdateInput,
    ObligationWaiveInput,
    PaymentInput,
    PaymentOutput,
    PlanInput,
    ReceivableOutput,
    ReceivableQuery,
    ReceivableSummaryOutput,
    RedLetterInput,
    ReverseInput,
)

IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 100

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          403: OpenApiResponse(description="permission_denied"),
          404: OpenApiResponse(description="not_found: a contract (payment, obligation) you may not see, or none")}
PLAN_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="plan_exceeds_contract (the installments add up to more than the contract "
                                     "amount), or invalid: a wrong type, a missing amount or due date, an `id` that "
                                     "is no open installment of the plan, an `obligation` of no obligation of the "
                                     "contract; `fields` names it by its path (`installments.0.amount` …)"),
    403: OpenApiResponse(description="permission_denied: a draft's plan is its editors' and finance's; once "
                                     "approved, finance's and the administrators'; a cancelled contract's is closed"),
    409: OpenApiResponse(description="stale_version (the plan changed since you read `plan_version`), or "
                                     "installment_has_payments (an installment would owe less than it received, "
                                     "or one with payments would go)"),
}
PAYMENT_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="overpayment (more than the open installments owe, and not `as_advance`), "
                                     "allocation_invalid (`fields` names `allocations.<installment id>`), "
                                     "currency_mismatch, or invalid: a wrong type, an amount that is not positive "
                                     "or has more decimals than the currency, `received_on` in the future, an "
                                     "Idempotency-Key longer than 100 characters"),
    403: OpenApiResponse(description="permission_denied: finance and administrators only"),
    409: OpenApiResponse(description="idempotency_conflict (the Idempotency-Key was used for another request), "
                                     "or nothing_owed (the contract is not signed or was cancelled: only an "
                                     "advance may be recorded)"),
}
REVERSE_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="reason_required, or invalid input"),
    403: OpenApiResponse(description="permission_denied: finance and administrators only"),
    409: OpenApiResponse(description="already_reversed"),
}
OBLIGATION_WRITE_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="invalid: a wrong type, a description missing or too long, an unknown "
                                     "`party`, an `owner` who is no active user seeing the contract; `fields` names it"),
    403: OpenApiResponse(description="permission_denied: the contract's editors, finance and administrators; "
                                     "none on a cancelled contract"),
}
OBLIGATION_STATE_ERRORS = {
    **OBLIGATION_WRITE_ERRORS,
    409: OpenApiResponse(description="stale_version (the obligation changed since you read its `version`), or "
                                     "obligation_closed (its status does not allow this)"),
}
COMPLETE_ERRORS = {
    **OBLIGATION_STATE_ERRORS,
    400: OpenApiResponse(description="invalid: `done_on` missing or in the future, `evidence` that is no "
                                     "document of the contract"),
    403: OpenApiResponse(description="permission_denied: the contract's editors, finance, administrators and "
                                     "the obligation's owner"),
}
WAIVE_ERRORS = {**OBLIGATION_STATE_ERRORS, 400: OpenApiResponse(description="reason_required, or invalid input")}
REOPEN_ERRORS = {**OBLIGATION_STATE_ERRORS, 400: OpenApiResponse(description="invalid input")}
INVOICE_WRITE_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="invoice_exceeds_contract (invoices would exceed the contract amount: "
                                     "finance only, with `over_contract_reason`), red_letter_exceeds, or invalid: a "
                                     "wrong type, a number that is not the invoice type's (20 digits digital; code "
                                     "of 10 or 12 and 8-digit number paper), a tax that does not match the rate, a "
                                     "date in the future, a special VAT invoice without the buyer's taxpayer ID"),
    403: OpenApiResponse(description="permission_denied: requests by the contract's editors and finance; issuing, "
                                     "voiding, red-letter and import by finance and administrators"),
    409: OpenApiResponse(description="stale_version, invoice_state (its status does not allow this), "
                                     "invoice_cannot_void (a digital invoice, or one with red-letter invoices), "
                                     "invoice_number_taken"),
}
ISSUE_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(description="invalid: a wrong type, a title missing or too long, an unknown `kind` or "
                                     "`severity`, an `owner` who is no active user seeing the contract, a resolution "
                                     "missing"),
    403: OpenApiResponse(description="permission_denied: the contract's editors, finance and administrators (and "
                                     "for resolving and reopening, the issue's owner); none on a cancelled contract"),
    409: OpenApiResponse(description="stale_version, or issue_state (resolving a resolved one, reopening an open one)"),
}
VERSION_NOTE = ("Send the obligation's `version` you read: a stale one is 409 stale_version and nothing "
                "changes. Recorded in the audit log, on the contract's and the customer's timelines.")


def payment_rows(user) -> QuerySet:
    """The payments `user` may see, with what their output reads."""
    allocations = PaymentAllocation.objects.select_related("installment").order_by("installment__position")
    return (selectors.payments_of(user=user).select_related("contract", "customer", "created_by")
            .prefetch_related(Prefetch("allocations", queryset=allocations)).order_by("-received_on", "-id"))


def with_lateness(rows: list[selectors.ObligationRow]) -> list[Obligation]:
    """The obligations of `rows` carrying `late` and `days_late` as the selector derived them."""
    for row in rows:
        row.obligation.late, row.obligation.days_late = row.late, row.days_late
    return [row.obligation for row in rows]


def obligation_output(obligation: Obligation, context: dict) -> dict:
    """One obligation as its contract's list shows it (re-read, with `late` derived from today)."""
    rows = selectors.contract_obligations(contract=obligation.contract)
    fresh = next(row for row in rows if row.obligation.pk == obligation.pk)
    return ObligationOutput(with_lateness([fresh])[0], context=context).data


# --- A contract's money and obligations -----------------------------------------------------------------

class ContractMoneyViewSet(ServiceViewMixin, viewsets.GenericViewSet):
    """The execution and money of a contract the user may see (another is 404): the money summary and the
    payment plan, the payments received and the obligations. Money is written by finance and administrators
    (a draft's plan also by its editors); obligations by the contract's editors and finance. Every change is
    recorded in the audit log, on the contract's and the customer's timelines."""

    serializer_class = output_serializer = MoneyOutput
    queryset = Contract.objects.none()

    def get_queryset(self):
        return contract_selectors.contract_queryset(user=self.request.user)

    def get_object(self):
        return contract_selectors.contract_get(user=self.request.user, pk=self.kwargs["pk"])

    def summary(self, contract, as_of=None) -> dict:
        money = selectors.contract_money(contract=contract, as_of=as_of)
        return MoneyOutput(money, context=self.get_serializer_context()).data

    @extend_schema(operation_id="contracts_money", summary="The contract's money: plan, received, outstanding, aging",
                   description="Totals in the contract's currency (amounts as decimal strings): the contract "
                               "amount, what the plan covers and leaves unplanned, what was received (advances "
                               "included) and is still owed, how much of it is overdue and its aging, and each "
                               "installment with what it received, what it still owes, whether it is overdue and "
                               "its limitation period. Overdue and aging are derived as of `as_of` (default: "
                               "today). Who sees the contract sees its money.",
                   parameters=[MoneyQuery], responses={200: MoneyOutput, **ERRORS})
    @action(detail=True, methods=["get"], url_path="money", url_name="money", pagination_class=None)
    def money(self, request, pk=None):
        contract = self.get_object()
        query = self.validated(MoneyQuery, request.query_params)
        return Response(self.summary(contract, query.get("as_of")))

    @extend_schema(operation_id="contracts_payment_plan", summary="Save the contract's payment plan",
                   description="The installments in order replace the plan's open ones: send an installment's "
                               "`id` to keep it (with its payments), leave it out to remove it (only one that "
                               "received nothing), send one without `id` to add it. An installment is due on "
                               "`due_date`, or `days_after` an obligation of the contract is done. The plan may "
                               "leave part of the contract unplanned, never plan beyond it. Send the "
                               "`plan_version` you read as `version`. Answers with the money summary, as GET "
                               "`/contracts/{id}/money/`. Recorded in the audit log.",
                   request=PlanInput, responses={200: MoneyOutput, **PLAN_ERRORS})
    @action(detail=True, methods=["put"], url_path="payment-plan", url_name="payment-plan", pagination_class=None)
    def payment_plan(self, request, pk=None):
        contract = self.get_object()
        if not policies.can_edit_plan(request.user, contract):
            raise permission_denied()
        data = self.validated(PlanInput, request.data)
        services.payment_plan_save(actor=request.user, contract=contract, installments=data["installments"],
                                   expected_version=data.get("version"))
        return Response(self.summary(contract))

    @extend_schema(methods=["GET"], operation_id="contracts_payments", summary="The contract's payments, newest first",
                   description="Every payment recorded on the contract, reversed ones included (`status`), each "
                               "with the installments it paid. Who sees the contract sees them.",
                   responses={200: PaymentOutput(many=True), **ERRORS})
    @extend_schema(methods=["POST"], operation_id="contracts_payments_create",
                   summary="Record a payment received on the contract",
                   description="Finance and administrators. The payment pays the open installments, the "
                               "oldest due first, or as `allocations` says; more than they owe is refused (400 "
                               "overpayment) unless `as_advance` keeps the rest as an advance. A contract that "
                               "is not signed, or was cancelled, takes only an advance. Send an `Idempotency-Key` "
                               "header to make a retry safe: the same key with the same body answers 200 with the "
                               "payment recorded first (and the header `Idempotent-Replayed: true`), never a "
                               "second payment; the same key with another body is 409 idempotency_conflict. Keys "
                               "are per user. Recorded in the audit log.",
                   parameters=[
                       OpenApiParameter(IDEMPOTENCY_KEY, {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
                                        OpenApiParameter.HEADER,
                                        description="A key of your choice, unique per payment (a UUID)."),
                       OpenApiParameter("Idempotent-Replayed", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                        response=[200], enum=["true"],
                                        description="The request replayed an earlier one with the same key."),
                   ],
                   request=PaymentInput, responses={
                       201: PaymentOutput,
                       200: OpenApiResponse(PaymentOutput, description="A replay: the payment the key recorded."),
                       **PAYMENT_ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="payments", url_name="payments")
    def payments(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(payment_rows(request.user).filter(contract=contract))
            return self.get_paginated_response(
                PaymentOutput(page, many=True, context=self.get_serializer_context()).data)
        if not policies.can_record_payment(request.user, contract):
            raise permission_denied()
        key = request.headers.get(IDEMPOTENCY_KEY, "")
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise exceptions.ValidationError({IDEMPOTENCY_KEY: [
                _("At most %(limit)d characters.") % {"limit": MAX_IDEMPOTENCY_KEY}]}, code="max_length")
        data = self.validated(PaymentInput, request.data)
        fingerprint = services.fingerprint({**data, "contract": contract.pk})
        allocations, as_advance = data.pop("allocations"), data.pop("as_advance")
        payment, created = services.payment_record(
            actor=request.user, contract=contract, data=data, allocations=allocations or None, as_advance=as_advance,
            idempotency_key=key, request_fingerprint=fingerprint)
        body = PaymentOutput(payment_rows(request.user).get(pk=payment.pk), context=self.get_serializer_context()).data
        if created:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(body, headers={"Idempotent-Replayed": "true"})

    @extend_schema(methods=["GET"], operation_id="contracts_obligations",
                   summary="The contract's obligations, open ones first",
                   description="Deliverables and milestones of the contract (who owes what by when), open ones "
                               "first by due date, then done, waived and cancelled ones. `late` and `days_late` "
                               "are derived from today. Who sees the contract sees them.",
                   responses={200: ObligationOutput(many=True), **ERRORS})
    @extend_schema(methods=["POST"], operation_id="contracts_obligations_create",
                   summary="Add an obligation to the contract",
                   description="The contract's editors, finance and administrators (not on a cancelled "
                               "contract). Its `owner` follows it and may complete it. Recorded in the audit log.",
                   request=ObligationInput, responses={201: ObligationOutput, **OBLIGATION_WRITE_ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="obligations", url_name="obligations",
            pagination_class=None)
    def obligations(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            rows = with_lateness(selectors.contract_obligations(contract=contract))
            return Response(ObligationOutput(rows, many=True, context=self.get_serializer_context()).data)
        if not policies.can_manage_obligations(request.user, contract):
            raise permission_denied()
        data = self.validated(ObligationInput, request.data)
        obligation = services.obligation_create(actor=request.user, contract=contract, data=data)
        return Response(obligation_output(obligation, self.get_serializer_context()), status=status.HTTP_201_CREATED)


    @extend_schema(methods=["GET"], operation_id="contracts_invoices", summary="The contract's invoices, newest first",
                   description="Requests, issued, voided and withdrawn invoices and red-letter ones. Who sees the "
                               "contract sees them.",
                   responses={200: InvoiceOutput(many=True), **ERRORS})
    @extend_schema(methods=["POST"], operation_id="contracts_invoices_create",
                   summary="Request an invoice, or record one the tax platform issued",
                   description="`status` requested (default): the contract's editors and finance ask for an "
                               "invoice; its buyer defaults to the customer's invoicing details. `status` issued: "
                               "finance records an invoice the tax platform issued, with its `number` (and `code`) "
                               "and `issued_on`. Invoices beyond the contract amount (pending requests count) need "
                               "finance and `over_contract_reason`. Recorded in the audit log.",
                   request=InvoiceCreateInput, responses={201: InvoiceOutput, **INVOICE_WRITE_ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="invoices", url_name="invoices")
    def invoices(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(invoice_rows(request.user).filter(contract=contract))
            return self.get_paginated_response(
                InvoiceOutput(page, many=True, context=self.get_serializer_context()).data)
        data = self.validated(InvoiceCreateInput, request.data)
        issued = data.pop("status") == InvoiceStatus.ISSUED
        allowed = (policies.can_record_invoice if issued else policies.can_request_invoice)(request.user, contract)
        if not allowed:
            raise permission_denied()
        data = {k: v for k, v in data.items() if v is not None}
        if issued:
            invoice = services.invoice_record(actor=request.user, contract=contract, data=data)
        else:
            invoice = services.invoice_request(actor=request.user, contract=contract, data=data)
        return Response(InvoiceOutput(invoice_rows(request.user).get(pk=invoice.pk),
                                      context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], operation_id="contracts_issues", summary="The contract's issues and risks",
                   description="Open ones first, the most severe first. Who sees the contract sees them.",
                   responses={200: IssueOutput(many=True), **ERRORS})
    @extend_schema(methods=["POST"], operation_id="contracts_issues_create", summary="Note an issue or risk",
                   description="The contract's editors, finance and administrators (not on a cancelled contract). "
                               "Recorded in the audit log.",
                   request=IssueInput, responses={201: IssueOutput, **ISSUE_ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="issues", url_name="issues", pagination_class=None)
    def issues(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            return Response(IssueOutput(selectors.contract_issues(contract=contract), many=True,
                                        context=self.get_serializer_context()).data)
        if not policies.can_manage_issues(request.user, contract):
            raise permission_denied()
        data = self.validated(IssueInput, request.data)
        issue = services.issue_create(actor=request.user, contract=contract, data=data)
        return Response(IssueOutput(issue, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)


def invoice_rows(user) -> QuerySet:
    return (selectors.invoices_of(user=user).select_related("contract", "customer")
            .order_by("-created_at", "-id"))


# --- Payments ---------------------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Payments on the contracts you may see, newest first",
                       responses={200: PaymentOutput(many=True), **ERRORS}),
    retrieve=extend_schema(summary="One payment", responses={200: PaymentOutput, **ERRORS}),
)
class PaymentViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments received on the contracts the user may see (another's is 404), newest first, each with the
    installments it paid. A payment is never deleted: finance reverses one recorded by mistake, with a reason,
    and what it paid is owed again. Record one with POST `/contracts/{id}/payments/`."""

    serializer_class = output_serializer = PaymentOutput
    filterset_class = PaymentFilter
    queryset = Payment.objects.none()

    def get_queryset(self):
        return payment_rows(self.request.user)

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_object()))

    @extend_schema(operation_id="payments_reverse", summary="Reverse a payment recorded by mistake",
                   description="Finance and administrators, with a reason. The payment stays, `reversed`, and "
                               "counts for nothing; what it paid is owed again. Recorded in the audit log.",
                   request=ReverseInput, responses={200: PaymentOutput, **REVERSE_ERRORS})
    @action(detail=True, methods=["post"], url_path="reverse", url_name="reverse")
    def reverse_payment(self, request, pk=None):
        payment = self.get_object()
        if not policies.can_reverse_payment(request.user, payment):
            raise permission_denied()
        data = self.validated(ReverseInput, request.data)
        payment = services.payment_reverse(actor=request.user, payment=payment, reason=data["reason"])
        return Response(self.output(payment))


# --- Obligations ------------------------------------------------------------------------------------------

@extend_schema_view(
    retrieve=extend_schema(summary="One obligation", responses={200: ObligationOutput, **ERRORS}),
    partial_update=extend_schema(
        summary="Change an obligation (the fields sent; `version` required)",
        description=f"The contract's editors, finance and administrators; not a cancelled obligation (409 "
                    f"obligation_closed). {VERSION_NOTE}",
        request=ObligationUpdateInput, responses={200: ObligationOutput, **OBLIGATION_STATE_ERRORS}),
)
class ObligationViewSet(ServiceViewMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An obligation of a contract the user may see (another's is 404): a deliverable or milestone, who owes
    it, by when and who follows it. Its status: open, then done (with the day and optional evidence) or
    waived (with a reason); reopened back to open. Installments due a number of days after it is done get
    their due date when it is done, and lose it when it is reopened."""

    serializer_class = output_serializer = ObligationOutput
    queryset = Obligation.objects.none()

    def get_queryset(self):
        return selectors.obligations_of(user=self.request.user).select_related("contract", "owner")

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    def output(self, obligation) -> dict:
        return obligation_output(obligation, self.get_serializer_context())

    def managed(self) -> Obligation:
        obligation = self.get_object()
        if not policies.can_manage_obligations(self.request.user, obligation.contract):
            raise permission_denied()
        return obligation

    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_object()))

    def partial_update(self, request, pk=None):
        obligation = self.managed()
        data = self.validated(ObligationUpdateInput, request.data, partial=True)
        expected_version = require_version(data)
        obligation = services.obligation_update(actor=request.user, obligation=obligation, data=data,
                                                expected_version=expected_version)
        return Response(self.output(obligation))

    @extend_schema(operation_id="obligations_complete", summary="Mark the obligation done",
                   description=f"The contract's editors, finance, administrators and the obligation's owner; an "
                               f"open obligation only (else 409 obligation_closed). `done_on` is not in the "
                               f"future; `evidence` a document of the contract. Installments due a number of days "
                               f"after it become due. {VERSION_NOTE}",
                   request=ObligationCompleteInput, responses={200: ObligationOutput, **COMPLETE_ERRORS})
    @action(detail=True, methods=["post"], url_path="complete", url_name="complete")
    def complete(self, request, pk=None):
        obligation = self.get_object()
        if not policies.can_close_obligation(request.user, obligation):
            raise permission_denied()
        data = self.validated(ObligationCompleteInput, request.data)
        obligation = services.obligation_complete(actor=request.user, obligation=obligation, done_on=data["done_on"],
                                                  evidence=data["evidence"], expected_version=data.get("version"))
        return Response(self.output(obligation))

    @extend_schema(operation_id="obligations_waive", summary="Waive the obligation",
                   description=f"The contract's editors, finance and administrators, with a reason; an open "
                               f"obligation only (else 409 obligation_closed). {VERSION_NOTE}",
                   request=ObligationWaiveInput, responses={200: ObligationOutput, **WAIVE_ERRORS})
    @action(detail=True, methods=["post"], url_path="waive", url_name="waive")
    def waive(self, request, pk=None):
        obligation = self.managed()
        data = self.validated(ObligationWaiveInput, request.data)
        obligation = services.obligation_waive(actor=request.user, obligation=obligation, reason=data["reason"],
                                               expected_version=data.get("version"))
        return Response(self.output(obligation))

    @extend_schema(operation_id="obligations_reopen", summary="Reopen a done or waived obligation",
                   description=f"The contract's editors, finance and administrators: undoes a completion or a "
                               f"waiver recorded by mistake (else 409 obligation_closed). Installments that waited "
                               f"for it wait again. {VERSION_NOTE}",
                   request=ObligationReopenInput, responses={200: ObligationOutput, **REOPEN_ERRORS})
    @action(detail=True, methods=["post"], url_path="reopen", url_name="reopen")
    def reopen(self, request, pk=None):
        obligation = self.managed()
        data = self.validated(ObligationReopenInput, request.data)
        obligation = services.obligation_reopen(actor=request.user, obligation=obligation,
                                                expected_version=data.get("version"))
        return Response(self.output(obligation))


# --- Invoices ------------------------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Invoices on the contracts you may see, newest first",
                       responses={200: InvoiceOutput(many=True), **ERRORS}),
    retrieve=extend_schema(summary="One invoice", responses={200: InvoiceOutput, **ERRORS}),
)
class InvoiceViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices of the contracts the user may see (another's is 404). Qiyue records invoices, it issues none:
    a request (POST `/contracts/{id}/invoices/`) is issued on the tax platform and recorded here with its
    number, typed in or imported from the platform's export; an issued paper invoice may be voided, any issued
    one reversed by red-letter invoices. Each change keeps the contract's invoiced total and is audited."""

    serializer_class = output_serializer = InvoiceOutput
    filterset_class = InvoiceFilter
    queryset = Invoice.objects.none()

    def get_queryset(self):
        return invoice_rows(self.request.user)

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_object()))

    def fresh(self, invoice) -> dict:
        return self.output(self.get_queryset().get(pk=invoice.pk))

    def recorded(self) -> Invoice:
        invoice = self.get_object()
        if not policies.can_record_invoice(self.request.user, invoice.contract):
            raise permission_denied()
        return invoice

    @extend_schema(operation_id="invoices_issue", summary="Record the invoice issued for a request",
                   description="Finance and administrators: the number (and code), date and amounts the tax "
                               "platform issued, which may differ from the request's. The request only (else "
                               "409 invoice_state).",
                   request=InvoiceIssueInput, responses={200: InvoiceOutput, **INVOICE_WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="issue", url_name="issue")
    def issue(self, request, pk=None):
        invoice = self.recorded()
        data = self.validated(InvoiceIssueInput, request.data)
        version = data.pop("version", None)
        data = {k: v for k, v in data.items() if v is not None}
        return Response(self.fresh(services.invoice_issue(actor=request.user, invoice=invoice, data=data,
                                                          expected_version=version)))

    @extend_schema(operation_id="invoices_withdraw", summary="Withdraw an invoice request",
                   description="Finance, or who asked, with a reason; a request only (else 409 invoice_state).",
                   request=InvoiceReasonInput, responses={200: InvoiceOutput, **INVOICE_WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="withdraw", url_name="withdraw")
    def withdraw(self, request, pk=None):
        invoice = self.get_object()
        if not policies.can_withdraw_invoice_request(request.user, invoice):
            raise permission_denied()
        data = self.validated(InvoiceReasonInput, request.data)
        return Response(self.fresh(services.invoice_withdraw(actor=request.user, invoice=invoice,
                                                             reason=data["reason"],
                                                             expected_version=data.get("version"))))

    @extend_schema(operation_id="invoices_void", summary="Void an issued paper invoice",
                   description="Finance and administrators, with a reason. A digital invoice cannot be voided, nor "
                               "one with red-letter invoices (409 invoice_cannot_void): record the red-letter "
                               "invoice instead.",
                   request=InvoiceReasonInput, responses={200: InvoiceOutput, **INVOICE_WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="void", url_name="void")
    def void(self, request, pk=None):
        invoice = self.recorded()
        data = self.validated(InvoiceReasonInput, request.data)
        return Response(self.fresh(services.invoice_void(actor=request.user, invoice=invoice, reason=data["reason"],
                                                         expected_version=data.get("version"))))

    @extend_schema(operation_id="invoices_red_letter", summary="Record a red-letter invoice that reverses this one",
                   description="Finance and administrators: the red-letter invoice the platform issued "
                               "after a red-letter confirmation, reversing all (no amount given) or part of this "
                               "issued invoice; never more than is left. Answers with the red-letter invoice.",
                   request=RedLetterInput, responses={201: InvoiceOutput, **INVOICE_WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="red-letter", url_name="red-letter")
    def red_letter(self, request, pk=None):
        invoice = self.recorded()
        data = self.validated(RedLetterInput, request.data)
        version = data.pop("version", None)
        data = {k: v for k, v in data.items() if v is not None}
        red = services.invoice_red_letter(actor=request.user, invoice=invoice, data=data, expected_version=version)
        return Response(self.fresh(red), status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="invoices_import", summary="Import the tax platform's invoice export",
                   description="Finance and administrators. Each row is matched to a contract by a contract "
                               "number column or a contract number in its remark: a new number is recorded (or "
                               "issues the contract's open request of the same total), a red-letter row reverses "
                               "its original, a voided row voids the recorded invoice, a number already recorded "
                               "is skipped. All rows or none: any problem is 400 with every row's problem in "
                               "`fields.rows`, and nothing changes.",
                   request={"multipart/form-data": InvoiceImportInput},
                   responses={200: InvoiceImportOutput, **INVOICE_WRITE_ERRORS})
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request):
        if not policies.is_money_user(request.user):
            raise permission_denied()
        data = self.validated(InvoiceImportInput, request.data)
        upload = data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise exceptions.ValidationError({"file": [_("The file is larger than %(mb)d MB.") % {"mb": 5}]})
        result = services.invoice_import(actor=request.user, content=upload.read(), filename=upload.name or "",
                                         over_contract_reason=data["over_contract_reason"])
        return Response(InvoiceImportOutput(result).data)


# --- Issues and risks ------------------------------------------------------------------------------------------

@extend_schema_view(
    retrieve=extend_schema(summary="One issue or risk", responses={200: IssueOutput, **ERRORS}),
    partial_update=extend_schema(
        summary="Change an issue or risk (the fields sent; `version` required)",
        description="The contract's editors, finance and administrators. Send the `version` you read: a stale "
                    "one is 409 stale_version. Recorded in the audit log.",
        request=IssueUpdateInput, responses={200: IssueOutput, **ISSUE_ERRORS}),
)
class IssueViewSet(ServiceViewMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An issue or risk noted on a contract the user may see (another's is 404): its severity, who follows
    it, by when it should be resolved, and how it was. Note one with POST `/contracts/{id}/issues/`."""

    serializer_class = output_serializer = IssueOutput
    queryset = ContractIssue.objects.none()

    def get_queryset(self):
        return selectors.issues_of(user=self.request.user).select_related("contract", "owner")

    def get_object(self):
        return get_or_404(self.get_queryset(), self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_object()))

    def partial_update(self, request, pk=None):
        issue = self.get_object()
        if not policies.can_manage_issues(request.user, issue.contract):
            raise permission_denied()
        data = self.validated(IssueUpdateInput, request.data, partial=True)
        expected_version = require_version(data)
        return Response(self.output(services.issue_update(actor=request.user, issue=issue, data=data,
                                                          expected_version=expected_version)))

    @extend_schema(operation_id="issues_resolve", summary="Resolve the issue or risk, saying how",
                   description="The contract's editors, finance, administrators and the issue's owner.",
                   request=IssueResolveInput, responses={200: IssueOutput, **ISSUE_ERRORS})
    @action(detail=True, methods=["post"], url_path="resolve", url_name="resolve")
    def resolve(self, request, pk=None):
        issue = self.get_object()
        if not policies.can_resolve_issue(request.user, issue):
            raise permission_denied()
        data = self.validated(IssueResolveInput, request.data)
        return Response(self.output(services.issue_resolve(actor=request.user, issue=issue,
                                                           resolution=data["resolution"],
                                                           expected_version=data.get("version"))))

    @extend_schema(operation_id="issues_reopen", summary="Reopen a resolved issue or risk",
                   description="The contract's editors, finance, administrators and the issue's owner.",
                   request=IssueReopenInput, responses={200: IssueOutput, **ISSUE_ERRORS})
    @action(detail=True, methods=["post"], url_path="reopen", url_name="reopen")
    def reopen(self, request, pk=None):
        issue = self.get_object()
        if not policies.can_resolve_issue(request.user, issue):
            raise permission_denied()
        data = self.validated(IssueReopenInput, request.data)
        return Response(self.output(services.issue_reopen(actor=request.user, issue=issue,
                                                          expected_version=data.get("version"))))


# --- Receivables ----------------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Every installment still owed on the contracts you may see, oldest due first",
                       parameters=[ReceivableQuery], responses={200: ReceivableOutput(many=True), **ERRORS}),
)
class ReceivableViewSet(ServiceViewMixin, viewsets.GenericViewSet):
    """Receivables, as on the receivables page: the installments still owed as of a day (default today),
    filtered by age, customer, owner, currency, contract number and due date; and, from the maintained
    totals, what is owed per currency with its aging (`summary/`)."""

    serializer_class = output_serializer = ReceivableOutput
    queryset = Installment.objects.none()

    def list(self, request):
        query = self.validated(ReceivableQuery, request.query_params)
        today = timezone.localdate()
        as_of = query.get("as_of") or today
        rows = receivables.receivable_rows(
            user=request.user, as_of=as_of, customer=query.get("customer"), currency=query.get("currency", ""),
            bucket=query.get("bucket", ""), owner=query.get("owner"),
            contract_number=query.get("contract", "").strip(), due_after=query.get("due_after"),
            due_before=query.get("due_before"))
        page = self.paginator.paginate_queryset(rows, request, view=self, parts=receivables.parts(rows, request.user))
        return self.get_paginated_response(
            ReceivableOutput(receivables.rows_as_of(receivables.with_contracts(page), as_of, today), many=True).data)

    @extend_schema(operation_id="receivables_summary", summary="What is still owed per currency, with its aging",
                   description="Per currency, the larger first: outstanding, overdue and the aging as of today of "
                               "every contract you may see (the dashboard's figures). Currencies are never added "
                               "together.",
                   responses={200: ReceivableSummaryOutput(many=True), **ERRORS})
    @action(detail=False, methods=["get"], url_path="summary", url_name="summary", pagination_class=None)
    def summary(self, request):
        return Response(ReceivableSummaryOutput(receivables.summary(user=request.user, today=timezone.localdate()),
                                                many=True).data)
