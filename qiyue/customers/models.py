from django.conf import settings
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.core.models import TagWord, TimeStampedModel, VersionedModel
from qiyue.core.permissions import ScopedQuerySet
from qiyue.core.validators import validate_credit_code, validate_taxpayer_id


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    IT = "it", _("Information technology")
    FINANCE = "finance", pgettext_lazy("industry", "Finance")
    RETAIL = "retail", _("Retail and wholesale")
    CONSTRUCTION = "construction", _("Construction and real estate")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    ENERGY = "energy", _("Energy")
    LOGISTICS = "logistics", _("Logistics")
    GOVERNMENT = "government", _("Government and public sector")
    OTHER = "other", _("Other")


class CustomerLevel(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key")
    REGULAR = "regular", _("Regular")
    SMALL = "small", _("Small")


class Customer(VersionedModel):
    objects = ScopedQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=200)
    name_normalized = models.CharField(_("normalised name"), max_length=200, db_index=True, editable=False)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True,
        validators=[validate_credit_code],
        help_text=_("18 characters (GB 32100-2015). Leave empty for foreign companies and individuals."),
    )
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, default=Industry.OTHER)
    level = models.CharField(_("level"), max_length=20, choices=CustomerLevel.choices, default=CustomerLevel.REGULAR)
    address = models.CharField(_("address"), max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="owned_customers")
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="customers")
    tags = models.CharField(_("tags"), max_length=500, blank=True, help_text=_("Separate tags with commas."))
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    # Invoicing details (开票信息): what finance puts on the customer's invoices.
    invoice_title = models.CharField(_("invoice title"), max_length=200, blank=True,
                                     help_text=_("The buyer's name on invoices, when it is not the customer's name."))
    taxpayer_id = models.CharField(_("taxpayer ID"), max_length=20, blank=True, validators=[validate_taxpayer_id],
                                   help_text=_("Usually the unified social credit code."))
    invoice_address_phone = models.CharField(_("invoicing address and phone"), max_length=300, blank=True)
    invoice_bank_account = models.CharField(_("bank and account number"), max_length=300, blank=True)
    # Payment behaviour, kept by the finance app with each money change (see qiyue.customers.credit):
    # the oldest unpaid due date of its contracts, and its installments paid (and paid on time).
    credit_overdue_since = models.DateField(_("oldest unpaid due date"), null=True, blank=True, editable=False)
    credit_paid = models.PositiveIntegerField(_("installments paid"), default=0, editable=False)
    credit_paid_on_time = models.PositiveIntegerField(_("installments paid on time"), default=0, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        indexes = [
            # Lists and pickers sorted by name, for users who see every customer.
            models.Index(fields=["name"], name="customer_name"),
            models.Index(fields=["owner", "name"], name="customer_owner_name"),
            models.Index(fields=["team", "name"], name="customer_team_name"),
            # "Overdue customers" (the credit filter): only the few with something unpaid past due.
            models.Index(fields=["credit_overdue_since"], name="customer_overdue_since",
                         condition=models.Q(credit_overdue_since__isnull=False)),
        ]

    def __str__(self):
        return self.name

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class Contact(TimeStampedModel):
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True, validators=[validate_email])
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]

    def __str__(self):
        return self.name


class Communication(TimeStampedModel):
    class Channel(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="communications")
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="communications")
    occurred_on = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.MEETING)
    summary = models.TextField(_("summary"), max_length=5000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                               related_name="communications")

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        ordering = ["-occurred_on", "-id"]

    def __str__(self):
        # Language-neutral: audit events keep a copy of this label whatever the reader's language.
        return f"{self.occurred_on} {self.summary[:40]}"


class CustomerTag(TagWord):
    """A tag of a customer in use (see TagWord): the customer list's tag pick list."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team_id", "owner_id", "name"], name="customer_tag_key")]
