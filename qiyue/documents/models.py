from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.core.models import TimeStampedModel, VersionedModel
from qiyue.core.permissions import LiveQuerySet


class DocumentKind(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed copy")
    SCAN = "scan", _("Scan of the paper original")
    SUPPLEMENT = "supplement", _("Supplement")
    ATTACHMENT = "attachment", _("Attachment")


class FileType(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "DOCX"
    XLSX = "xlsx", "XLSX"
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    TIFF = "tiff", "TIFF"


class ExtractionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Document(VersionedModel):
    """A file on a contract (or on a customer), with its versions. Visibility follows the contract,
    or the customer when there is no contract."""

    objects = LiveQuerySet.as_manager()

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="documents")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.ATTACHMENT)
    title = models.CharField(_("title"), max_length=255)
    current_version = models.ForeignKey("DocumentVersion", verbose_name=_("current version"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contract", "-created_at"], name="document_contract_created"),
                   models.Index(fields=["customer", "-created_at"], name="document_customer_created")]

    def __str__(self):
        return self.title


class DocumentVersion(TimeStampedModel):
    document = models.ForeignKey(Document, verbose_name=_("document"), on_delete=models.CASCADE,
                                 related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    filename = models.CharField(_("file name"), max_length=255)
    file_type = models.CharField(_("file type"), max_length=10, choices=FileType.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # Encrypted blob in the storage backend, named by a generated id (never the user's file name).
    blob_name = models.CharField(max_length=200, unique=True, editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    wrapped_key = models.BinaryField(editable=False)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.PROTECT, related_name="+")
    extraction_status = models.CharField(_("text extraction"), max_length=10, choices=ExtractionStatus.choices,
                                         default=ExtractionStatus.QUEUED)
    extraction_error = models.CharField(_("extraction error"), max_length=500, blank=True)
    extraction_attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker claimed it (queued → running): its lease. A version running for longer than the
    # time limit plus a margin lost its worker and is recovered (extraction.extraction_recover_stale).
    extraction_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    extraction_seconds = models.FloatField(_("extraction time (s)"), null=True, blank=True)
    ocr_used = models.BooleanField(_("OCR"), default=False)
    extracted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_version_number")]
        indexes = [models.Index(fields=["key_id"], name="docversion_key"),
                   models.Index(fields=["extraction_status"], name="docversion_extraction")]

    def __str__(self):
        return f"{self.document} v{self.number}"


class DocumentText(models.Model):
    """The text extracted from one version; `pages` holds the character offset where each page starts."""

    version = models.OneToOneField(DocumentVersion, primary_key=True, on_delete=models.CASCADE, related_name="text")
    text = models.TextField(blank=True)
    pages = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"text of {self.version_id}"

    def page_at(self, offset: int) -> int:
        page = 1
        for number, start in enumerate(self.pages, start=1):
            if start <= offset:
                page = number
        return page


class PaperOriginal(TimeStampedModel):
    """Where the signed paper original of a contract is kept (R8.1)."""

    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="paper_originals")
    description = models.CharField(_("description"), max_length=200, default="", blank=True)
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)
    room = models.CharField(_("archive room"), max_length=100)
    cabinet = models.CharField(_("cabinet"), max_length=100, blank=True)
    box = models.CharField(_("box"), max_length=100, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("paper original")
        verbose_name_plural = _("paper originals")

    def __str__(self):
        return " / ".join(p for p in (self.room, self.cabinet, self.box) if p)


class PaperLoan(TimeStampedModel):
    """Who borrowed a paper original, when, and when it came back."""

    original = models.ForeignKey(PaperOriginal, verbose_name=_("paper original"), on_delete=models.CASCADE,
                                 related_name="loans")
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("borrower"), on_delete=models.PROTECT,
                                 related_name="+")
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    lent_on = models.DateField(_("lent on"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("loan of a paper original")
        verbose_name_plural = _("loans of paper originals")
        ordering = ["-lent_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["original"], condition=models.Q(returned_on__isnull=True),
                                               name="one_open_loan_per_original")]

    def __str__(self):
        return f"{self.original} → {self.borrower}"

    @property
    def is_overdue(self) -> bool:
        return self.returned_on is None and self.due_on is not None and self.due_on < timezone.localdate()
