"""Input and output shapes of the execution and money API. Inputs check types, lengths, enums and
decimals; the services check the rest (who may, the money: what is owed, the currency's minor unit, the
plan against the contract, an obligation's state)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiyue.core.api import VersionField
from qiyue.core.validators import MAX_ID

from .. import money
from ..models import (
    ContractIssue,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceSource,
    InvoiceStatus,
    IssueKind,
    IssueStatus,
    Obligation,
    ObligationStatus,
    Party,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    RedLetterReason,
    Severity,
)
from ..services import MAX_INSTALLMENTS

# A version number (a PositiveIntegerField): larger is no version at all.
MAX_VERSION = 2**31 - 1
AMOUNT = {"max_digits": 16, "decimal_places": 2}
# Totals add many amounts: no cap on their digits (DRF would refuse to render a larger sum).
TOTAL = {"max_digits": None, "decimal_places": 2, "read_only": True}
LIMITATION_STATES = ("", "approaching", "expired")


class IdField(serializers.IntegerField):
    """An id in a request body: a whole number from 1 to the largest 64-bit key."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def inline_enum(choices, **kwargs) -> serializers.CharField:
    """A read-only code out of `choices`, its values listed where it is used (not as a shared `…Enum`
    component: `status` names the contract's StatusEnum already, and drf-spectacular would rename one)."""
    values = [value for value, _label in choices]
    schema = {"allOf": [{"type": "string", "enum": values}]}
    field_class = extend_schema_field(schema)(type("InlineEnumField", (serializers.CharField,), {}))
    return field_class(read_only=True, **kwargs)


def choice_input(choices, **kwargs) -> serializers.ChoiceField:
    """An input choice, its values listed where it is used (see inline_enum)."""
    field_class = extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})(
        type("InlineChoiceField", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, **kwargs)


# --- The money summary ----------------------------------------------------------------------------------

class MoneyQuery(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="The day the summary is seen from (default: today): "
                                                            "what is overdue, aging and the limitation period.")


class InstallmentRowOutput(serializers.Serializer):
    """One installment of the plan with what is derived from it as of the summary's day."""

    id = serializers.IntegerField(source="installment.pk", read_only=True)
    position = serializers.IntegerField(source="installment.position", read_only=True,
                                        help_text="Its number in the plan (第 N 期), from 1.")
    due_date = serializers.DateField(source="installment.due_date", read_only=True, allow_null=True,
                                     help_text="null: due `days_after` its obligation is done, not yet known.")
    amount = serializers.DecimalField(source="installment.amount", read_only=True, **AMOUNT)
    currency = serializers.CharField(source="installment.currency", read_only=True)
    condition = serializers.CharField(source="installment.condition", read_only=True)
    obligation = serializers.IntegerField(source="installment.obligation_id", read_only=True, allow_null=True,
                                          help_text="The obligation whose completion makes it due, or null.")
    days_after = serializers.IntegerField(source="installment.days_after", read_only=True)
    received = serializers.DecimalField(source="installment.received", read_only=True, **AMOUNT)
    paid_on = serializers.DateField(source="installment.paid_on", read_only=True, allow_null=True,
                                    help_text="The day it was fully paid, or null.")
    status = inline_enum(InstallmentStatus.choices, source="installment.status",
                         help_text="open, or claim (kept as owed after the contract ended early).")
    outstanding = serializers.DecimalField(read_only=True, **AMOUNT)
    overdue = serializers.BooleanField(read_only=True)
    days_overdue = serializers.IntegerField(read_only=True)
    aging_bucket = inline_enum([("", "")] + [(b, b) for b in money.AGING_BUCKETS], source="bucket",
                               help_text="The aging bucket of what is still owed; \"\" when it is fully paid.")
    limitation = inline_enum([(s, s) for s in LIMITATION_STATES],
                             help_text="The three-year limitation period of what is still owed: \"\", "
                                       "approaching (within 180 days of its end) or expired.")


class AgingOutput(serializers.Serializer):
    not_due = serializers.DecimalField(**TOTAL)
    d1_30 = serializers.DecimalField(**TOTAL)
    d31_60 = serializers.DecimalField(**TOTAL)
    d61_90 = serializers.DecimalField(**TOTAL)
    over_90 = serializers.DecimalField(**TOTAL)


class MoneyOutput(serializers.Serializer):
    """A contract's money (selectors.ContractMoney), every amount in the contract's currency."""

    currency = serializers.CharField(read_only=True)
    contracted = serializers.DecimalField(help_text="The contract amount.", **TOTAL)
    planned = serializers.DecimalField(help_text="What the installments add up to.", **TOTAL)
    unplanned = serializers.DecimalField(help_text="What the plan leaves unplanned.", **TOTAL)
    received = serializers.DecimalField(help_text="Payments recorded (not reversed), advances included.", **TOTAL)
    advance = serializers.DecimalField(help_text="Received beyond what the installments owed (预收).", **TOTAL)
    outstanding = serializers.DecimalField(help_text="What the installments still owe.", **TOTAL)
    overdue = serializers.DecimalField(help_text="What is still owed of installments past their due date.",
                                       **TOTAL)
    received_share = serializers.IntegerField(read_only=True, help_text="Received of contracted, in whole percent.")
    invoiced = serializers.DecimalField(help_text="Issued invoices less red-letter ones (voided ones do not count).",
                                        **TOTAL)
    invoice_requested = serializers.DecimalField(help_text="Invoice requests not yet issued.", **TOTAL)
    uninvoiced = serializers.DecimalField(help_text="The contract amount not yet invoiced (negative: invoiced "
                                                    "beyond it).", **TOTAL)
    aging = AgingOutput(read_only=True, help_text="What is still owed by days past due.")
    plan_version = serializers.SerializerMethodField(
        help_text="The payment plan's version, 0 when there is no plan yet: send it back with PUT "
                  "payment-plan (a stale one is 409 stale_version).")
    installments = InstallmentRowOutput(source="rows", many=True, read_only=True,
                                        help_text="The plan's installments in order (cancelled ones left out).")

    def get_plan_version(self, summary) -> int:
        return summary.plan.version if summary.plan is not None else 0


# --- The payment plan ----------------------------------------------------------------------------------

class InstallmentInput(serializers.Serializer):
    id = IdField(required=False, allow_null=True,
                 help_text="An installment of the plan to keep (its payments stay with it); none: a new one.")
    due_date = serializers.DateField(required=False, allow_null=True,
                                     help_text="Required, unless `obligation` sets it.")
    amount = serializers.DecimalField(**AMOUNT)
    condition = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                      help_text="In words, e.g. 30 days after acceptance.")
    obligation = IdField(required=False, allow_null=True,
                         help_text="An obligation of this contract: the installment is due `days_after` it is "
                                   "done (unknown until then).")
    days_after = serializers.IntegerField(min_value=0, max_value=3650, required=False, default=0)


class BoundedListField(serializers.ListField):
    """A list whose length is checked before its items: a huge list is refused at once."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class PlanInput(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_VERSION,
        help_text="The `plan_version` you read (0: there was no plan). A stale one is 409 stale_version.")
    # A ListField, not many=True: a body that is no list is refused naming `installments` itself.
    installments = BoundedListField(
        child=InstallmentInput(), allow_empty=True, max_length=MAX_INSTALLMENTS,
        help_text=f"The plan, in order, replacing its open installments (at most {MAX_INSTALLMENTS}).")


# --- Payments ------------------------------------------------------------------------------------------

class AllocationsField(serializers.DictField):
    """{installment id: amount}: shape and size here; which installments may take what is the service's."""

    child = serializers.DecimalField(**AMOUNT)

    def to_internal_value(self, data):
        if isinstance(data, dict) and len(data) > MAX_INSTALLMENTS:
            raise serializers.ValidationError(_("At most %(n)d installments.") % {"n": MAX_INSTALLMENTS},
                                              code="max_length")
        if isinstance(data, dict) and any(not (str(key).isascii() and str(key).isdigit()) or len(str(key)) > 19
                                          for key in data):
            raise serializers.ValidationError(_("Name each installment by its id."), code="invalid")
        return super().to_internal_value(data)


class PaymentInput(serializers.Serializer):
    amount = serializers.DecimalField(**AMOUNT)
    received_on = serializers.DateField(help_text="Not in the future.")
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="",
                                     help_text="The contract's currency (the default); any other is 400 "
                                               "currency_mismatch.")
    method = choice_input(PaymentMethod.choices, required=False, default=PaymentMethod.BANK_TRANSFER)
    bank_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    payer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    allocations = AllocationsField(
        required=False, default=dict,
        help_text="{installment id: amount}: how the payment pays the open installments. Without it, the oldest "
                  "due first.")
    as_advance = serializers.BooleanField(
        required=False, default=False,
        help_text="true keeps what no installment owes as an advance (预收); false refuses it (400 overpayment).")


class ReverseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                   help_text="Required: why the payment is reversed (400 reason_required).")


class AllocationOutput(serializers.ModelSerializer):
    position = serializers.IntegerField(source="installment.position", read_only=True,
                                        help_text="The installment's number in the plan.")

    class Meta:
        model = PaymentAllocation
        fields = ["installment", "position", "amount"]
        read_only_fields = fields


class PaymentOutput(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    method = inline_enum(PaymentMethod.choices)
    status = inline_enum(PaymentStatus.choices, help_text="recorded, or reversed (it then counts for nothing).")
    allocations = AllocationOutput(many=True, read_only=True, help_text="The installments it paid.")
    created_by_name = serializers.CharField(source="created_by.__str__", read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "contract", "contract_number", "customer", "customer_name", "received_on", "amount",
                  "currency", "method", "bank_reference", "payer", "note", "advance", "status", "allocations",
                  "reversed_at", "reversal_reason", "created_at", "created_by", "created_by_name"]
        read_only_fields = fields
        extra_kwargs = {"advance": {"help_text": "What no installment owed, kept as an advance."}}


# --- Obligations ---------------------------------------------------------------------------------------

class ObligationInput(serializers.Serializer):
    party = choice_input(Party.choices, required=False, default=Party.OURS,
                         help_text="Who owes it: ours (default) or customer.")
    description = serializers.CharField(max_length=500)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    owner = IdField(required=False, allow_null=True, default=None,
                    help_text="Who follows it: an active user who sees the contract (they may complete it).")


class ObligationUpdateInput(serializers.Serializer):
    party = choice_input(Party.choices, required=False)
    description = serializers.CharField(max_length=500, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    owner = IdField(required=False, allow_null=True)
    version = VersionField(max_value=MAX_VERSION)


class ObligationCompleteInput(serializers.Serializer):
    done_on = serializers.DateField(help_text="The day it was done (not in the future).")
    evidence = IdField(required=False, allow_null=True, default=None,
                       help_text="A document of the contract that shows it (POST /documents/ uploads one).")
    version = VersionField(required=False, max_value=MAX_VERSION)


class ObligationWaiveInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                   help_text="Required (400 reason_required).")
    version = VersionField(required=False, max_value=MAX_VERSION)


class ObligationReopenInput(serializers.Serializer):
    version = VersionField(required=False, max_value=MAX_VERSION)


class ObligationOutput(serializers.ModelSerializer):
    """An obligation with `late` and `days_late` derived from today (the view sets them from
    selectors.contract_obligations)."""

    party = inline_enum(Party.choices)
    status = inline_enum(ObligationStatus.choices)
    owner_name = serializers.SerializerMethodField()
    late = serializers.BooleanField(read_only=True, help_text="Open and past its due date.")
    days_late = serializers.IntegerField(read_only=True)

    class Meta:
        model = Obligation
        fields = ["id", "contract", "party", "description", "due_date", "owner", "owner_name", "status", "done_on",
                  "evidence", "status_reason", "version", "late", "days_late", "created_at", "updated_at"]
        read_only_fields = fields
        extra_kwargs = {"evidence": {"help_text": "The document that shows it was done, or null."},
                        "status_reason": {"help_text": "Why it was waived."}}

    def get_owner_name(self, obligation: Obligation) -> str | None:
        return str(obligation.owner) if obligation.owner_id else None


# --- Invoices --------------------------------------------------------------------------------------------

RATE = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}


class InvoiceAmountsInput(serializers.Serializer):
    total = serializers.DecimalField(required=False, allow_null=True, help_text=(
        "Total including tax (价税合计). Give it alone (the amount excluding tax and the tax follow from the "
        "rate), or give `amount_excluding_tax` (and `tax_amount`)."), **AMOUNT)
    amount_excluding_tax = serializers.DecimalField(required=False, allow_null=True, **AMOUNT)
    tax_amount = serializers.DecimalField(required=False, allow_null=True, help_text=(
        "The tax as the invoice shows it: within 1.00 of the rate applied to the amount excluding tax."), **AMOUNT)
    tax_rate = serializers.DecimalField(required=False, allow_null=True, help_text="Percent: 13, 9, 6, 3, 1, 0…",
                                        **RATE)


class BuyerInput(serializers.Serializer):
    buyer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text=(
        "Default: the customer's invoice title, else its name."))
    buyer_taxpayer_id = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text=(
        "Default: the customer's taxpayer ID. A special VAT invoice needs one."))


class InvoiceCreateInput(InvoiceAmountsInput, BuyerInput):
    status = choice_input([(InvoiceStatus.REQUESTED, "requested"), (InvoiceStatus.ISSUED, "issued")],
                          required=False, default=InvoiceStatus.REQUESTED, help_text=(
                              "requested (default): ask finance for an invoice. issued: record an invoice the "
                              "tax platform issued (finance), with its `number` and `issued_on`."))
    kind = choice_input(InvoiceKind.choices, required=False, default=InvoiceKind.DIGITAL_SPECIAL)
    tax_rate = serializers.DecimalField(required=False, allow_null=True, help_text=(
        "Percent: 13, 9, 6, 3, 1, 0… Default: the contract's tax rate."), **RATE)
    installment = IdField(required=False, allow_null=True, help_text="The installment it invoices, if any.")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="",
                                 help_text="Issued paper invoices: the 10- or 12-digit invoice code.")
    number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                   help_text="Issued invoices: a digital invoice's 20 digits, a paper one's 8.")
    issued_on = serializers.DateField(required=False, allow_null=True, help_text="Issued invoices: not in the future.")
    over_contract_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                                 help_text="Finance only: why invoices may exceed the contract "
                                                           "amount.")


class InvoiceIssueInput(InvoiceAmountsInput, BuyerInput):
    kind = choice_input(InvoiceKind.choices, required=False, help_text="Default: the request's.")
    code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    number = serializers.CharField(max_length=20)
    issued_on = serializers.DateField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    installment = IdField(required=False, allow_null=True)
    over_contract_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    version = VersionField(required=False, max_value=MAX_VERSION)


class InvoiceReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                   help_text="Required (400 reason_required).")
    version = VersionField(required=False, max_value=MAX_VERSION)


class RedLetterInput(InvoiceAmountsInput):
    code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    number = serializers.CharField(max_length=20, help_text="The red-letter invoice's own number.")
    issued_on = serializers.DateField(help_text="Not before the invoice it reverses, not in the future.")
    red_reason = choice_input(RedLetterReason.choices, help_text="The reason of the red-letter confirmation.")
    red_confirmation = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                             help_text="The red-letter confirmation's number (红字确认单编号).")
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    version = VersionField(required=False, max_value=MAX_VERSION)


class InvoiceImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="The tax platform's export: XLSX (or CSV), at most 5 MB and 2,000 rows.")
    over_contract_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                                 help_text="Why invoices of the file may exceed a contract's amount.")


class InvoiceImportRowOutput(serializers.Serializer):
    line = serializers.IntegerField(read_only=True, help_text="The row's line in the file.")
    number = serializers.CharField(read_only=True)
    outcome = inline_enum([(v, v) for v in ("recorded", "request_issued", "red_letter", "voided", "already_recorded",
                                            "not_recorded_voided")])


class InvoiceImportOutput(serializers.Serializer):
    recorded = serializers.IntegerField(read_only=True)
    requests_issued = serializers.IntegerField(read_only=True)
    red_letters = serializers.IntegerField(read_only=True)
    voided = serializers.IntegerField(read_only=True)
    already_recorded = serializers.IntegerField(read_only=True)
    rows = InvoiceImportRowOutput(many=True, read_only=True)


class InvoiceOutput(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    kind = inline_enum(InvoiceKind.choices)
    status = inline_enum(InvoiceStatus.choices, help_text=(
        "requested → issued → voided; a request may be withdrawn. An issued red-letter invoice (`reverses` "
        "set) counts against the invoiced total."))
    red_reason = inline_enum([("", "")] + list(RedLetterReason.choices))
    source = inline_enum(InvoiceSource.choices)
    is_red = serializers.BooleanField(read_only=True, help_text="A red-letter invoice.")
    signed_total = serializers.DecimalField(read_only=True, help_text="The total as it counts: negative when red.",
                                            **AMOUNT)

    class Meta:
        model = Invoice
        fields = ["id", "contract", "contract_number", "customer", "customer_name", "installment", "kind", "status",
                  "code", "number", "issued_on", "amount_excluding_tax", "tax_rate", "tax_amount", "total",
                  "signed_total", "currency", "buyer_name", "buyer_taxpayer_id", "note", "over_contract_reason",
                  "is_red", "reverses", "red_reason", "red_confirmation", "status_reason", "source", "requested_by",
                  "issued_by", "created_at", "updated_at", "version"]
        read_only_fields = fields


# --- Issues and risks --------------------------------------------------------------------------------------

class IssueInput(serializers.Serializer):
    kind = choice_input(IssueKind.choices, required=False, default=IssueKind.ISSUE, help_text="issue (default) or risk.")
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    severity = choice_input(Severity.choices, required=False, default=Severity.MEDIUM)
    owner = IdField(required=False, allow_null=True, default=None,
                    help_text="Who follows it: an active user who sees the contract (they may resolve it).")
    due_date = serializers.DateField(required=False, allow_null=True, default=None,
                                     help_text="When it should be resolved by.")


class IssueUpdateInput(serializers.Serializer):
    kind = choice_input(IssueKind.choices, required=False)
    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    severity = choice_input(Severity.choices, required=False)
    owner = IdField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    version = VersionField(max_value=MAX_VERSION)


class IssueResolveInput(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                       help_text="Required: how it was resolved (400 invalid naming it).")
    version = VersionField(required=False, max_value=MAX_VERSION)


class IssueReopenInput(serializers.Serializer):
    version = VersionField(required=False, max_value=MAX_VERSION)


class IssueOutput(serializers.ModelSerializer):
    kind = inline_enum(IssueKind.choices)
    severity = inline_enum(Severity.choices)
    status = inline_enum(IssueStatus.choices)
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = ContractIssue
        fields = ["id", "contract", "kind", "title", "description", "severity", "owner", "owner_name", "due_date",
                  "status", "resolution", "resolved_on", "created_by", "version", "created_at", "updated_at"]
        read_only_fields = fields

    def get_owner_name(self, issue: ContractIssue) -> str | None:
        return str(issue.owner) if issue.owner_id else None


# --- Receivables ----------------------------------------------------------------------------------------

class ReceivableQuery(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="The day the list is seen from (default: today; not "
                                                            "later): payments received after it are left out.")
    bucket = choice_input([(b, b) for b in ("overdue", *money.AGING_BUCKETS, "undated")], required=False,
                          help_text="overdue (any age), an aging bucket, or undated (no due date yet).")
    customer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    owner = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217 code.")
    contract = serializers.CharField(required=False, max_length=64, help_text="Contract number, or its start.")
    due_after = serializers.DateField(required=False, help_text="Due on or after this day.")
    due_before = serializers.DateField(required=False, help_text="Due on or before this day.")

    def validate_as_of(self, value):
        from django.utils import timezone

        if value > timezone.localdate():
            raise serializers.ValidationError(_("Choose today or a day before."))
        return value

    def validate(self, attrs):
        if attrs.get("due_after") and attrs.get("due_before") and attrs["due_after"] > attrs["due_before"]:
            raise serializers.ValidationError({"due_before": _("Choose a day on or after the first.")})
        return attrs


class ReceivableOutput(serializers.Serializer):
    """One installment still owed as of the list's day (receivables.Row)."""

    id = serializers.IntegerField(source="installment.pk", read_only=True)
    contract = serializers.IntegerField(source="installment.contract_id", read_only=True)
    contract_number = serializers.CharField(source="installment.contract.number", read_only=True)
    customer = serializers.IntegerField(source="installment.contract.customer_id", read_only=True)
    customer_name = serializers.CharField(source="installment.contract.customer.name", read_only=True)
    owner = serializers.IntegerField(source="installment.contract.owner_id", read_only=True)
    position = serializers.IntegerField(source="installment.position", read_only=True)
    due_date = serializers.DateField(source="installment.due_date", read_only=True, allow_null=True)
    amount = serializers.DecimalField(source="installment.amount", read_only=True, **AMOUNT)
    currency = serializers.CharField(source="installment.currency", read_only=True)
    received = serializers.DecimalField(read_only=True, help_text="Received by the end of the list's day.", **AMOUNT)
    outstanding = serializers.DecimalField(read_only=True, **AMOUNT)
    days_overdue = serializers.IntegerField(read_only=True)
    aging_bucket = inline_enum([(b, b) for b in money.AGING_BUCKETS], source="bucket")
    limitation = inline_enum([(s, s) for s in LIMITATION_STATES],
                             help_text="The three-year limitation period: \"\", approaching or expired.")


class ReceivableSummaryOutput(serializers.Serializer):
    """What the contracts you may see still owe in one currency, as of today (receivables.Summary)."""

    currency = serializers.CharField(read_only=True)
    outstanding = serializers.DecimalField(**TOTAL)
    overdue = serializers.DecimalField(**TOTAL)
    aging = AgingOutput(read_only=True)
