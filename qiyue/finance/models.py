"""Execution and money of a contract: obligations (who owes what by when), the payment plan
(回款计划) with its installments, payments received (回款) and how they are allocated.

"Late" and "overdue" are never stored: they are derived from the due date and today (money.py).
An installment keeps `received`, the sum of its live allocations, maintained by the payment services
under the contract's lock, so lists and totals need no sum over every allocation.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.core.models import TimeStampedModel
from qiyue.core.permissions import ScopedQuerySet

POSITIVE = [MinValueValidator(Decimal("0.01"))]
HALF_CENT = models.Value(Decimal("0.005"))


class Party(models.TextChoices):
    OURS = "ours", _("Our side")
    CUSTOMER = "customer", _("The customer")


class ObligationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("obligation", "Open")
    DONE = "done", _("Done")
    WAIVED = "waived", _("Waived")
    CANCELLED = "cancelled", pgettext_lazy("obligation", "Cancelled")


class Obligation(TimeStampedModel):
    """A deliverable or milestone of a contract (交付, 验收, 付款条件…): who owes it, by when, who follows it."""

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="obligations")
    party = models.CharField(_("owed by"), max_length=10, choices=Party.choices, default=Party.OURS)
    description = models.CharField(_("description"), max_length=500)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ObligationStatus.choices,
                              default=ObligationStatus.OPEN)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    evidence = models.ForeignKey("documents.Document", verbose_name=_("evidence"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    status_reason = models.CharField(_("reason"), max_length=1000, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["contract", "due_date"], name="obligation_contract"),
            models.Index(fields=["status", "due_date"], name="obligation_due"),
        ]

    def __str__(self):
        return self.description


class PaymentPlan(models.Model):
    """The payment plan of one contract: its installments, and the version a plan edit is checked
    against (two people editing one plan never lose an update)."""

    contract = models.OneToOneField("contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                    related_name="payment_plan")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")

    def __str__(self):
        return str(self.contract)


class InstallmentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("installment", "Open")
    # Kept as a claim after the contract ended early: still owed, still in receivables.
    CLAIM = "claim", _("Claim")
    CANCELLED = "cancelled", pgettext_lazy("installment", "Cancelled")


class Installment(models.Model):
    """One installment of a payment plan (第 N 期): an amount due on a date, or a number of days after
    an obligation is done (then its due date is set when the obligation is)."""

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="installments")
    position = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, validators=POSITIVE)
    currency = models.CharField(_("currency"), max_length=3)
    condition = models.CharField(_("condition"), max_length=300, blank=True,
                                 help_text=_("For example: 30 days after acceptance."))
    obligation = models.ForeignKey(Obligation, verbose_name=_("after obligation"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="installments")
    days_after = models.PositiveSmallIntegerField(_("days after it is done"), default=0)
    received = models.DecimalField(_("received"), max_digits=16, decimal_places=2, default=Decimal("0.00"))
    paid_on = models.DateField(_("fully paid on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=InstallmentStatus.choices,
                              default=InstallmentStatus.OPEN)
    status_reason = models.CharField(_("reason"), max_length=1000, blank=True)
    # The contract's owner and team, copied by database triggers (qiyue/finance/triggers.py) on every
    # insert and update of an installment and every change of its contract's owner or team, never by
    # Python: so the receivables list is scoped (qiyue.core.permissions.visible) through an index.
    owner_id = models.BigIntegerField(null=True, blank=True, editable=False)
    team_id = models.BigIntegerField(null=True, blank=True, editable=False)

    # Scoped by `visible`, a list keeps the unscoped query beside it for its parts (visible_parts).
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "position"], name="installment_position"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="installment_amount_positive"),
            models.CheckConstraint(condition=models.Q(received__gte=0) & models.Q(received__lte=models.F("amount")),
                                   name="installment_received_within"),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_due"),
                   # What is still owed (a quarter of the rows, or less), for the receivables list: walked
                   # in due-date order per status, it reads only the rows it shows.
                   models.Index(fields=["status", "due_date"], name="installment_owed",
                                condition=models.Q(received__lt=models.F("amount"))),
                   # The same, for a team's and for one owner's.
                   models.Index(fields=["team_id", "status", "due_date"], name="installment_owed_team",
                                condition=models.Q(received__lt=models.F("amount"))),
                   models.Index(fields=["owner_id", "status", "due_date"], name="installment_owed_owner",
                                condition=models.Q(received__lt=models.F("amount"))),
                   # The same in one currency, for everyone's and for a team's: walking the indexes above
                   # read every other currency's rows too (a currency with a tenth of the rows: 0.3 s at a
                   # million contracts).
                   models.Index(fields=["currency", "status", "due_date"], name="installment_owed_currency",
                                condition=models.Q(received__lt=models.F("amount"))),
                   models.Index(fields=["team_id", "currency", "status", "due_date"],
                                name="installment_owed_team_cur", condition=models.Q(received__lt=models.F("amount"))),
                   # A team member's own installments in other teams (Scope.parts): usually none.
                   models.Index(fields=["owner_id", "team_id"], name="installment_owner_team")]

    def __str__(self):
        return f"{self.contract} #{self.position}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.received, Decimal("0.00"))


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ACCEPTANCE_BILL = "acceptance_bill", _("Acceptance bill")
    ONLINE = "online", _("Online payment")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class PaymentStatus(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    REVERSED = "reversed", _("Reversed")


class Payment(TimeStampedModel):
    """Money received from the customer for a contract (回款). Never deleted: a mistake is reversed,
    with a reason, and the reversal releases what it had paid."""

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="payments")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="payments")
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, validators=POSITIVE)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices,
                              default=PaymentMethod.BANK_TRANSFER)
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    payer = models.CharField(_("payer"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    # What no installment owed, kept as an advance (预收款) on finance's say.
    advance = models.DecimalField(_("advance"), max_digits=16, decimal_places=2, default=Decimal("0.00"))
    status = models.CharField(_("status"), max_length=10, choices=PaymentStatus.choices,
                              default=PaymentStatus.RECORDED)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reversal_reason = models.CharField(_("reason for the reversal"), max_length=1000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The API's Idempotency-Key: a replayed request finds the payment it recorded.
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="payment_idempotency"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["contract", "received_on"], name="payment_contract"),
            models.Index(fields=["customer", "received_on"], name="payment_customer"),
        ]

    def __str__(self):
        return f"{self.contract} {self.received_on} {self.amount} {self.currency}"


class PaymentAllocation(models.Model):
    """The part of a payment that pays one installment."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=16, decimal_places=2, validators=POSITIVE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["payment", "installment"], name="allocation_once")]

    def __str__(self):
        return f"{self.payment_id} → {self.installment_id}: {self.amount}"


class InvoiceKind(models.TextChoices):
    """The invoice types Chinese finance keeps apart (票种)."""

    DIGITAL_SPECIAL = "digital_special", _("Digital invoice, special VAT")  # 数电发票（增值税专用发票）
    DIGITAL_GENERAL = "digital_general", _("Digital invoice, general")  # 数电发票（普通发票）
    PAPER_SPECIAL = "paper_special", _("Paper VAT special invoice")  # 增值税专用发票
    PAPER_GENERAL = "paper_general", _("Paper VAT general invoice")  # 增值税普通发票
    OTHER = "other", _("Other invoice")


DIGITAL_KINDS = frozenset({InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_GENERAL})
PAPER_KINDS = frozenset({InvoiceKind.PAPER_SPECIAL, InvoiceKind.PAPER_GENERAL})


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")
    VOIDED = "voided", _("Voided")
    # A request taken back before anything was issued.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RedLetterReason(models.TextChoices):
    """The reasons a red-letter confirmation (红字发票信息确认单) gives."""

    ERROR = "error", _("Invoice issued in error")  # 开票有误
    RETURNED = "returned", _("Goods returned")  # 销货退回
    SERVICE_STOPPED = "service_stopped", _("Service stopped")  # 服务中止
    ALLOWANCE = "allowance", _("Sales allowance")  # 销售折让


class InvoiceSource(models.TextChoices):
    TYPED = "typed", _("Typed in")
    IMPORTED = "imported", _("Imported from the tax platform")


class Invoice(TimeStampedModel):
    """An invoice of a contract (开票): requested by sales or finance, then the invoice the tax
    platform issued (typed in or imported; Qiyue does not issue invoices), voided, or reversed by a
    red-letter invoice (红字发票). Amounts are stored positive; a red-letter invoice (`reverses` set)
    counts against the invoiced total."""

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="invoices")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="invoices")
    installment = models.ForeignKey(Installment, verbose_name=_("for installment"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="invoices")
    kind = models.CharField(_("invoice type"), max_length=20, choices=InvoiceKind.choices,
                            default=InvoiceKind.DIGITAL_SPECIAL)
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices,
                              default=InvoiceStatus.REQUESTED)
    # Paper invoices have a code (发票代码, 10 or 12 digits) and an 8-digit number; a digital
    # invoice has only its 20-digit number.
    code = models.CharField(_("invoice code"), max_length=12, blank=True)
    number = models.CharField(_("invoice number"), max_length=20, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    amount_excluding_tax = models.DecimalField(_("amount excluding tax"), max_digits=16, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    tax_amount = models.DecimalField(_("tax"), max_digits=16, decimal_places=2)
    total = models.DecimalField(_("total including tax"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    buyer_taxpayer_id = models.CharField(_("buyer's taxpayer ID"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    # Invoiced beyond the contract amount: finance's reason.
    over_contract_reason = models.CharField(_("reason for invoicing beyond the contract"), max_length=1000,
                                            blank=True)
    reverses = models.ForeignKey("self", verbose_name=_("reverses"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="red_letters")
    red_reason = models.CharField(_("red-letter reason"), max_length=20, choices=RedLetterReason.choices,
                                  blank=True)
    red_confirmation = models.CharField(_("red-letter confirmation number"), max_length=40, blank=True)
    status_reason = models.CharField(_("reason"), max_length=1000, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=InvoiceSource.choices,
                              default=InvoiceSource.TYPED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-id"]
        constraints = [
            # An invoice number exists once on the tax platform (a paper one with its code).
            models.UniqueConstraint(fields=["code", "number"], condition=~models.Q(number=""),
                                    name="invoice_number_once"),
            models.CheckConstraint(condition=models.Q(total__gt=0) & models.Q(amount_excluding_tax__gt=0)
                                   & models.Q(tax_amount__gte=0), name="invoice_amounts_positive"),
            # Within half a minor unit: SQLite adds decimals as floating point.
            models.CheckConstraint(
                condition=models.Q(total__gte=models.F("amount_excluding_tax") + models.F("tax_amount") - HALF_CENT)
                & models.Q(total__lte=models.F("amount_excluding_tax") + models.F("tax_amount") + HALF_CENT),
                name="invoice_total_adds_up"),
            models.CheckConstraint(condition=models.Q(tax_rate__gte=0) & models.Q(tax_rate__lte=100),
                                   name="invoice_tax_rate_range"),
        ]
        indexes = [
            models.Index(fields=["contract", "status"], name="invoice_contract"),
            models.Index(fields=["customer", "issued_on"], name="invoice_customer"),
            models.Index(fields=["status", "created_at"], name="invoice_queue"),
        ]

    def __str__(self):
        return self.number or f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_red(self) -> bool:
        return self.reverses_id is not None

    @property
    def signed_total(self) -> Decimal:
        """The total as it counts towards the invoiced amount: negative for a red-letter invoice."""
        return -self.total if self.is_red else self.total


class IssueKind(models.TextChoices):
    ISSUE = "issue", _("Issue")  # 问题: something wrong now
    RISK = "risk", _("Risk")  # 风险: something that may go wrong


class Severity(models.TextChoices):
    LOW = "low", pgettext_lazy("severity", "Low")
    MEDIUM = "medium", pgettext_lazy("severity", "Medium")
    HIGH = "high", pgettext_lazy("severity", "High")


class IssueStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("issue", "Open")
    RESOLVED = "resolved", _("Resolved")


class ContractIssue(TimeStampedModel):
    """An issue or a risk noted on a contract while it is carried out (a late delivery, a customer in
    difficulty, a dispute): how severe, who follows it, and how it was resolved."""

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="issues")
    kind = models.CharField(_("kind"), max_length=10, choices=IssueKind.choices, default=IssueKind.ISSUE)
    title = models.CharField(_("title"), max_length=300)
    description = models.CharField(_("description"), max_length=2000, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("to be resolved by"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=IssueStatus.choices, default=IssueStatus.OPEN)
    resolution = models.CharField(_("resolution"), max_length=2000, blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("issue or risk")
        verbose_name_plural = _("issues and risks")
        ordering = ["status", "-id"]
        indexes = [models.Index(fields=["contract", "status"], name="contract_issue_status")]

    def __str__(self):
        return self.title
