import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from qiyue.core.models import TagWord, TimeStampedModel, VersionedModel
from qiyue.core.money import fits_minor_unit, minor_unit
from qiyue.core.permissions import LiveQuerySet
from qiyue.core.validators import ISO_4217, validate_currency


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    CANCELLED = "cancelled", _("Cancelled")


class Nature(models.TextChoices):
    SALES = "sales", _("Sales (买卖)")
    PURCHASE = "purchase", _("Purchase")
    SERVICE = "service", _("Service")
    LEASE = "lease", _("Lease")
    JOINT_VENTURE = "joint_venture", _("Joint venture")
    LICENSING = "licensing", _("Licensing")
    OTHER = "other", _("Other")


class SubjectMatter(models.TextChoices):
    MOVABLE = "movable", _("Movable property")
    REAL_ESTATE = "real_estate", _("Real estate")
    IP = "ip", _("Intellectual property")
    SERVICES = "services", _("Services")
    OTHER = "other", _("Other")


class SigningForm(models.TextChoices):
    WRITTEN = "written", _("Written")
    ELECTRONIC = "electronic", _("Electronic")
    ORAL = "oral", _("Oral")


class SigningMethod(models.TextChoices):
    E_SIGNATURE = "e_signature", _("Electronic signature")
    WET_INK = "wet_ink", _("Wet-ink signature")
    COMPANY_SEAL = "company_seal", _("Company seal (盖章)")


class NumberSequence(models.Model):
    """The last number handed out per rendered prefix; numbers are never reused."""

    key = models.CharField(max_length=100, unique=True)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self):
        return f"{self.key}: {self.last}"


class Contract(VersionedModel):
    objects = LiveQuerySet.as_manager()

    number = models.CharField(_("contract number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="contracts")
    our_entity = models.CharField(_("our signing entity"), max_length=200, blank=True)
    counterparty_signatory = models.CharField(_("counterparty signatory"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=Decimal("0.00"),
                                 validators=[MinValueValidator(Decimal("0"))])
    # A framework agreement or a free contract has no amount; review needs to know why (see review_gaps).
    no_amount_reason = models.CharField(_("reason for no amount"), max_length=500, blank=True,
                                        help_text=_("Only when the amount is 0: for example a framework "
                                                    "agreement priced in its supplements, or a free contract."))
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[validate_currency])
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00"),
                                   validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))])
    signing_date = models.DateField(_("signing date"), null=True, blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    open_ended = models.BooleanField(_("open-ended"), default=False,
                                     help_text=_("The contract runs until terminated and has no expiry date."))
    auto_renewal = models.BooleanField(_("renews automatically"), default=False)
    notice_period_days = models.PositiveIntegerField(_("notice period (days)"), default=0,
                                                     validators=[MaxValueValidator(3650)])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="owned_contracts")
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="contracts")
    tags = models.CharField(_("tags"), max_length=500, blank=True, help_text=_("Separate tags with commas."))
    description = models.TextField(_("description"), max_length=10000, blank=True)
    nature = models.CharField(_("nature"), max_length=20, choices=Nature.choices, default=Nature.SALES)
    subject_matter = models.CharField(_("subject matter"), max_length=20, choices=SubjectMatter.choices,
                                      default=SubjectMatter.MOVABLE)
    signing_form = models.CharField(_("signing form"), max_length=20, choices=SigningForm.choices,
                                    default=SigningForm.WRITTEN)
    # Indexed below only where set: most contracts have no framework agreement, and an index full of
    # NULLs makes SQLite's planner think a lookup by parent matches every row.
    parent = models.ForeignKey("self", verbose_name=_("framework agreement"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="supplements", db_index=False,
                               help_text=_("Set this when the contract is a supplement to a framework agreement."))
    renewal_of = models.ForeignKey("self", verbose_name=_("renews"), null=True, blank=True, editable=False,
                                   on_delete=models.PROTECT, related_name="renewals", db_index=False,
                                   help_text=_("The contract this one continues (续签)."))
    contract_type = models.ForeignKey("ContractType", verbose_name=_("contract type"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+", db_index=False,
                                      help_text=_("Its type decides which further fields the contract has."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT,
                              editable=False)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True, editable=False)
    status_reason = models.CharField(_("reason"), max_length=1000, blank=True, editable=False)
    signing_method = models.CharField(_("signing method"), max_length=20, choices=SigningMethod.choices,
                                      blank=True, editable=False)
    # Archive (R8.2): a hold stops deletion whatever the retention; deletion is only ever soft.
    legal_hold = models.BooleanField(_("legal hold"), default=False, editable=False)
    legal_hold_reason = models.CharField(_("legal hold reason"), max_length=1000, blank=True, editable=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    deleted_reason = models.CharField(_("reason for deletion"), max_length=1000, blank=True, editable=False)
    # Money totals kept by the finance app in the same transaction as each money change (payments,
    # reversals, the plan, milestones), so lists sort and filter by them; `qiyue finance check`
    # recomputes them. Overdue is derived from `unpaid_since` (the due date of the oldest installment
    # not fully paid) and today; `unpaid_schedule` holds each unpaid installment's [due date, still
    # owed] so a row's overdue amount is computed as of any day without another query.
    received_amount = models.DecimalField(_("received"), max_digits=16, decimal_places=2, default=Decimal("0.00"),
                                          editable=False)
    outstanding_amount = models.DecimalField(_("outstanding"), max_digits=16, decimal_places=2,
                                             default=Decimal("0.00"), editable=False)
    # Issued invoices less their red-letter reversals (voided ones do not count), kept like the above.
    invoiced_amount = models.DecimalField(_("invoiced"), max_digits=16, decimal_places=2, default=Decimal("0.00"),
                                          editable=False)
    unpaid_since = models.DateField(_("oldest unpaid due date"), null=True, blank=True, editable=False)
    unpaid_schedule = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Every read but the archive's "deleted" view asks for deleted_at IS NULL: a partial index
            # keeps the dashboard's expiry buckets index-only scans (owner and team are in it, so the
            # "mine" bucket and a team-scoped user's buckets need no table row either).
            models.Index(fields=["status", "expiry_date", "owner", "team"], name="contract_live_status_expiry",
                         condition=models.Q(deleted_at__isnull=True)),
            # The approvers' queue: contracts in review, longest waiting first.
            models.Index(fields=["status", "status_changed_at", "id"], name="contract_live_status_changed",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["customer", "-created_at"], name="contract_customer_created"),
            models.Index(fields=["parent"], name="contract_parent", condition=models.Q(parent__isnull=False)),
            # Few contracts are renewals: a partial index, which the planner uses whatever the statistics
            # say of a column that is mostly empty.
            models.Index(fields=["renewal_of"], name="contract_renewal_of", condition=models.Q(renewal_of__isnull=False)),
            # Newest-first lists filtered by status, alone or within a team or an owner's contracts.
            models.Index(fields=["status", "-created_at"], name="contract_live_status_created",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["team", "status", "-created_at"], name="contract_live_team_status",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["owner", "status", "-created_at"], name="contract_live_owner_status",
                         condition=models.Q(deleted_at__isnull=True)),
            # A team's list totals per currency filtered by status (contract_list_totals): the index the
            # grouping needs, or SQLite groups a team's rows through (team, currency, outstanding) and
            # reads all of them (170 against 44 ms at a million).
            models.Index(fields=["team", "status", "currency"], name="contract_live_team_status_cur",
                         condition=models.Q(deleted_at__isnull=True)),
            # Dashboard expiry buckets for team- and owner-scoped users, and the customer page's totals,
            # answered from the index alone.
            models.Index(fields=["team", "status", "expiry_date"], name="contract_live_team_expiry",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["owner", "status", "expiry_date"], name="contract_live_owner_expiry",
                         condition=models.Q(deleted_at__isnull=True)),
            # The money too (customer_contract_summary): the biggest customer's 10,000 contracts were
            # read from the table (its totals 23 → 13 ms at a million).
            models.Index(fields=["customer", "currency", "status", "amount", "owner", "team", "received_amount",
                                 "outstanding_amount", "invoiced_amount"],
                         name="contract_live_customer_money", condition=models.Q(deleted_at__isnull=True)),
            # A team member's own contracts outside the team (see permissions.visible_parts).
            models.Index(fields=["owner", "team"], name="contract_owner_team"),
            models.Index(fields=["owner", "-created_at"], name="contract_owner_created"),
            models.Index(fields=["team", "-created_at"], name="contract_team_created"),
            # The live rows in list order with `deleted_at` in the index, so a walk that tests each row
            # against something else (a custom field's value, see custom_fields.filter_contracts) reads
            # only the index: a partial index does not cover the column of its condition in SQLite.
            models.Index(fields=["deleted_at", "-created_at"], name="contract_deleted_created"),
            models.Index(fields=["team", "deleted_at", "-created_at"], name="contract_team_deleted_created"),
            models.Index(fields=["expiry_date"], name="contract_expiry"),
            # The longest notice period (the reminder scan's bound on notice deadlines): the index's last entry.
            models.Index(fields=["notice_period_days"], name="contract_notice_period",
                         condition=models.Q(notice_period_days__gt=0)),
            models.Index(fields=["signing_date"], name="contract_signing"),
            # The list sorted by amount, each currency's contracts together (see ContractFilter.ordering).
            models.Index(fields=["currency", "amount"], name="contract_live_currency_amount",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["amount"], name="contract_amount"),
            # Money: the list filtered by "has overdue" or sorted by it (the oldest unpaid due date), and
            # sorted by what is outstanding, each currency's contracts together.
            models.Index(fields=["unpaid_since"], name="contract_live_unpaid",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["currency", "outstanding_amount"], name="contract_live_outstanding",
                         condition=models.Q(deleted_at__isnull=True)),
            # The same, most outstanding first (currency ascending, amount descending: SQLite walks an
            # index only in one direction for every column).
            models.Index(fields=["currency", "-outstanding_amount"], name="contract_live_outstanding_desc",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["team", "currency", "-outstanding_amount"], name="contract_team_outstanding_desc",
                         condition=models.Q(deleted_at__isnull=True)),
            # A team's overdue contracts, the longest overdue first (ContractFilter.filter_overdue): the
            # team's contracts read and sorted was 0.14 s at a million.
            models.Index(fields=["team", "unpaid_since"], name="contract_team_unpaid",
                         condition=models.Q(deleted_at__isnull=True, unpaid_since__isnull=False)),
            # A customer's overdue contracts (its page's overdue amount): few rows have a date at all.
            models.Index(fields=["customer", "unpaid_since"], name="contract_customer_unpaid",
                         condition=models.Q(deleted_at__isnull=True, unpaid_since__isnull=False)),
            # Deleted contracts are few; only the archive's "deleted" view looks for them.
            models.Index(fields=["-deleted_at"], name="contract_deleted", condition=models.Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def overdue_amount(self, as_of) -> Decimal:
        """What is overdue as of `as_of`: the unpaid installments due before it (derived, never stored)."""
        day = as_of.isoformat()
        return sum((Decimal(owed) for due, owed in self.unpaid_schedule or () if due < day), Decimal("0.00"))

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    def clean(self):
        errors = {}
        if self.effective_date and self.expiry_date and self.expiry_date < self.effective_date:
            errors["expiry_date"] = ValidationError(
                _("The expiry date cannot be before the effective date."), code="expiry_before_effective")
        if self.open_ended and self.expiry_date:
            errors["expiry_date"] = ValidationError(
                _("An open-ended contract has no expiry date: clear the date or untick “open-ended”."),
                code="open_ended_with_expiry")
        if self.no_amount_reason.strip() and self.amount:
            errors["no_amount_reason"] = ValidationError(
                _("A reason for no amount is only for contracts whose amount is 0."), code="reason_with_amount")
        # The column keeps two decimals for every currency (more is the field's own max_decimal_places
        # error); the currency's minor unit may allow fewer.
        column_decimals = self._meta.get_field("amount").decimal_places
        if (isinstance(self.amount, Decimal) and self.amount.is_finite() and self.currency in ISO_4217
                and -self.amount.as_tuple().exponent <= column_decimals
                and not fits_minor_unit(self.amount, self.currency)):
            if minor_unit(self.currency) == 0:
                message = _("An amount in %(currency)s has no decimal places (for example 100, not 100.50).")
            else:
                message = _("An amount in %(currency)s has at most %(digits)s decimal places.")
            errors["amount"] = ValidationError(message, code="amount_decimals", params={
                "currency": self.currency, "digits": minor_unit(self.currency)})
        if self.parent_id is not None:
            if self.pk is not None and self.parent_id == self.pk:
                errors["parent"] = ValidationError(_("A contract cannot be its own framework agreement."),
                                                   code="parent_self")
            elif self.parent is not None and self.parent.customer_id != self.customer_id:
                errors["parent"] = ValidationError(
                    _("A supplement must belong to the same customer as its framework agreement."),
                    code="parent_other_customer")
            elif self.parent is not None and self.parent.parent_id is not None:
                errors["parent"] = ValidationError(
                    _("A supplement cannot itself be a framework agreement of another supplement."),
                    code="parent_nested")
        if errors:
            raise ValidationError(errors)


class RetentionPolicy(models.Model):
    """How long a contract of one nature is kept after it ends (R8.2).

    Retention runs from the contract's end: the completion or termination date (the status change),
    or the expiry date for an expired contract. A contract that is still running (signed or active)
    is always within retention. Defaults (migration 0005) follow the accounting-archive practice of
    keeping original business documents 10 years, and 30 years for joint ventures, which outlive
    most other agreements and whose founding contracts matter for the company's whole life.
    """

    nature = models.CharField(_("nature"), max_length=20, choices=Nature.choices, unique=True)
    retention_years = models.PositiveSmallIntegerField(
        _("retention period (years)"), validators=[MinValueValidator(1), MaxValueValidator(100)])
    description = models.CharField(_("description"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        ordering = ["nature"]

    def __str__(self):
        return f"{self.get_nature_display()}: {self.retention_years}"


class ContractStat(models.Model):
    """Counts and amount sums of live (not deleted) contracts per team, owner, status and currency.

    Kept by database triggers on the contract table (migration 0006), so every write path — services,
    bulk loads, raw SQL — keeps it exact. The dashboard reads it instead of scanning a million rows.
    `team_id` is 0 for contracts without a team (so the unique key has no NULLs); `owner_id` and
    `team_id` are the same visibility keys `qiyue.core.permissions.visible` filters on.
    """

    team_id = models.BigIntegerField(default=0)
    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices)
    currency = models.CharField(max_length=3)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team_id", "owner_id", "status", "currency"],
                                               name="contract_stat_key")]

    def __str__(self):
        return f"{self.team_id}/{self.owner_id}/{self.status}/{self.currency}: {self.count}"


class MonthMeasure(models.TextChoices):
    SIGNED = "signed", _("Signed")
    EXPIRING = "expiring", _("Expiring")


class ContractMonthStat(models.Model):
    """Counts and amount sums of live contracts per team, owner, currency and calendar month, for
    the dashboard's charts: by signing month (`signed`: every contract with a signing date) and by
    expiry month (`expiring`: signed and active contracts with an expiry date).

    Kept by the same database triggers as ContractStat (qiyue/contracts/stat_triggers.py). `month`
    is year * 100 + month (202612); `team_id` is 0 for contracts without a team.
    """

    team_id = models.BigIntegerField(default=0)
    owner_id = models.BigIntegerField()
    measure = models.CharField(max_length=10, choices=MonthMeasure.choices)
    month = models.IntegerField()
    currency = models.CharField(max_length=3)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team_id", "owner_id", "measure", "month", "currency"],
                                               name="contract_month_stat_key")]
        indexes = [models.Index(fields=["measure", "month"], name="contract_month_stat_month")]

    def __str__(self):
        return f"{self.team_id}/{self.owner_id}/{self.measure}/{self.month}/{self.currency}: {self.count}"


# The due date a ReceivableStat row uses for amounts owed without one (an installment waiting for its
# milestone): later than any real date, so it counts as not yet due.
UNDATED = datetime.date(9999, 12, 31)


class ReceivableStat(models.Model):
    """Amounts still owed on live (not deleted) contracts per team, owner, currency and due date, for the
    dashboard's receivables and aging charts: the aging as of any day is a sum over these rows, never a
    scan of the installments.

    Kept by database triggers from each contract's `unpaid_schedule` (every unpaid installment's due date
    and what is still owed) and `outstanding_amount` (whatever the schedule leaves out has no due date and
    is kept under UNDATED), see qiyue/contracts/stat_triggers.py; so a payment, a change of owner or team
    and a deletion all move it in the same transaction. `team_id` is 0 for contracts without a team.
    """

    team_id = models.BigIntegerField(default=0)
    owner_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    due_date = models.DateField()
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team_id", "owner_id", "currency", "due_date"],
                                               name="receivable_stat_key")]
        indexes = [models.Index(fields=["owner_id", "currency", "due_date"], name="receivable_stat_owner")]

    def __str__(self):
        return f"{self.team_id}/{self.owner_id}/{self.currency}/{self.due_date}: {self.amount}"


class ReceivableTotal(models.Model):
    """ReceivableStat without team and owner: what all live contracts still owe per currency and due date,
    for those who see every contract (one row per day and currency, where ReceivableStat has one per owner
    too). Kept by the same triggers."""

    currency = models.CharField(max_length=3)
    due_date = models.DateField()
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["currency", "due_date"], name="receivable_total_key")]

    def __str__(self):
        return f"{self.currency}/{self.due_date}: {self.amount}"


class SavedView(models.Model):
    """A user's named contracts list: its filters and sort (`query`, a query string) and its columns."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    columns = models.CharField(_("columns"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_user_name")]

    def __str__(self):
        return self.name


class ListColumns(models.Model):
    """The columns a user chose for the contracts list (see qiyue.contracts.columns)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    columns = models.CharField(max_length=500)

    def __str__(self):
        return self.columns


class ContractType(TimeStampedModel):
    """A kind of contract an administrator defines, with the custom fields its contracts carry (R2.4)."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    active = models.BooleanField(_("in use"), default=True,
                                 help_text=_("A type no longer in use cannot be chosen for new contracts."))

    class Meta:
        verbose_name = _("contract type")
        verbose_name_plural = _("contract types")
        ordering = ["name_zh"]

    def __str__(self):
        return self.name_en if self.name_en and not (get_language() or "").startswith("zh") else self.name_zh


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", pgettext_lazy("custom field kind", "Number")
    MONEY = "money", _("Amount of money")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Several choices")
    USER = "user", _("Person")
    BOOLEAN = "boolean", _("Yes / no")


class CustomField(TimeStampedModel):
    """One field of a contract type. `choices` (choice kinds): [{"value", "zh", "en"}]."""

    contract_type = models.ForeignKey(ContractType, verbose_name=_("contract type"), on_delete=models.CASCADE,
                                      related_name="fields")
    key = models.SlugField(pgettext_lazy("custom field", "key"), max_length=40,
                           help_text=_("Letters, digits, - and _; the field's name in the API and exports."))
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=FieldKind.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["contract_type", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["contract_type", "key"], name="custom_field_type_key")]

    def __str__(self):
        return self.label_en if self.label_en and not (get_language() or "").startswith("zh") else self.label_zh

    def choice_label(self, value: str) -> str:
        english = not (get_language() or "").startswith("zh")
        for choice in self.choices or []:
            if choice.get("value") == value:
                return (choice.get("en") if english and choice.get("en") else choice.get("zh")) or value
        return value


class CustomValue(models.Model):
    """A contract's value of one custom field; a multi-choice field has a row per chosen value. Text,
    choices, people (their id) and yes/no ("1"/"0") are in `text`, numbers and amounts in `number`,
    dates in `date`: each with an index that starts with the field, so a list filtered by a custom
    field reads only that field's matching rows."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=1000, blank=True)
    number = models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True)
    date = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["field", "text", "contract"], name="custom_value_text"),
            models.Index(fields=["field", "number", "contract"], name="custom_value_number"),
            models.Index(fields=["field", "date", "contract"], name="custom_value_date"),
            models.Index(fields=["contract", "field"], name="custom_value_contract"),
        ]

    def __str__(self):
        return f"{self.contract_id}/{self.field_id}"


class ContractTag(TagWord):
    """A tag of a contract in use (see TagWord): the contract list's tag pick list."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team_id", "owner_id", "name"], name="contract_tag_key")]


class ExchangeRate(models.Model):
    """How many CNY one unit of `currency` is worth from `valid_from` on (until a later row), as an
    administrator keeps it: approval flows compare amounts in CNY with it."""

    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    rate = models.DecimalField(_("CNY per unit"), max_digits=18, decimal_places=6,
                               validators=[MinValueValidator(Decimal("0.000001"))])
    valid_from = models.DateField(_("valid from"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_day")]

    def __str__(self):
        return f"{self.currency} {self.rate} ({self.valid_from})"


class TerminationCategory(models.TextChoices):
    MUTUAL = "mutual", _("Mutual agreement")
    CUSTOMER_BREACH = "customer_breach", _("Breach by the customer")
    OUR_BREACH = "our_breach", _("Breach by our side")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")
    LAW_OR_POLICY = "law_or_policy", _("Change of law or policy")
    OTHER = "other", _("Other")


class Termination(models.Model):
    """How a contract ended early (解除): when, why, the settlement, who agreed, and whether what was
    still owed is kept as a claim or cancelled. One per contract; written with the terminate transition."""

    contract = models.OneToOneField(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                    related_name="termination")
    terminated_on = models.DateField(_("terminated on"))
    category = models.CharField(_("reason category"), max_length=20, choices=TerminationCategory.choices)
    settlement_amount = models.DecimalField(_("settlement amount"), max_digits=16, decimal_places=2,
                                            default=Decimal("0.00"),
                                            validators=[MinValueValidator(Decimal("0.00"))])
    agreed_by = models.CharField(_("agreed by"), max_length=200, blank=True,
                                 help_text=_("Who agreed to the termination on the other side, or the ruling."))
    keep_claims = models.BooleanField(_("keep what is still owed as claims"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("termination")
        verbose_name_plural = _("terminations")

    def __str__(self):
        return f"{self.contract} {self.terminated_on}"


class AmendmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SIGNED = "signed", _("Signed and in effect")
    CANCELLED = "cancelled", _("Cancelled")


class Amendment(models.Model):
    """A change to a signed contract (变更, R6.3): new values for some of its terms, with the reason and
    what else changed in words. It is approved like a contract; once signed, its values become the
    contract's and a new version of the contract is kept."""

    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="amendments")
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=10, choices=AmendmentStatus.choices,
                              default=AmendmentStatus.DRAFT)
    reason = models.CharField(_("reason"), max_length=1000)
    # {field: new value as text} for the amendable facts (see amendments.AMENDABLE).
    changes = models.JSONField(_("changes"), default=dict)
    payment_terms = models.TextField(_("payment terms"), max_length=2000, blank=True)
    other_terms = models.TextField(_("other terms"), max_length=4000, blank=True)
    # The signed supplement (补充协议) as a document of the contract, when there is one.
    document = models.ForeignKey("documents.Document", verbose_name=_("supplement document"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="amendment_number")]

    def __str__(self):
        return f"{self.contract.number} #{self.number}"


class ContractVersion(models.Model):
    """The agreed terms of a contract at one point: version 1 as signed, one more per amendment signed.
    Earlier versions are kept whole, so nothing agreed is ever lost."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    facts = models.JSONField(default=dict)
    amendment = models.OneToOneField(Amendment, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="contract_version")
    created_at = models.DateTimeField(auto_now_add=True)
    effective_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="contract_version_number")]

    def __str__(self):
        return f"{self.contract_id} v{self.number}"
