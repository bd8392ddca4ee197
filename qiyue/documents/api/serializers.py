"""Input and output shapes of the documents API."""

from django.urls import reverse
from rest_framework import serializers

from qiyue.accounts.models import User
from qiyue.contracts.models import Contract
from qiyue.core.api import VersionField, VisiblePrimaryKeyRelatedField
from qiyue.customers.models import Customer

from ..models import Document, DocumentKind, DocumentVersion, PaperLoan, PaperOriginal


class VersionOutput(serializers.ModelSerializer):
    document = serializers.IntegerField(source="document_id", read_only=True)
    uploaded_by_name = serializers.CharField(source="uploaded_by.__str__", read_only=True)
    is_current = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DocumentVersion
        fields = ["id", "document", "number", "filename", "file_type", "content_type", "size", "sha256", "comment",
                  "uploaded_by", "uploaded_by_name", "created_at", "is_current", "extraction_status",
                  "extraction_error", "page_count", "ocr_used", "extracted_at", "download_url"]
        read_only_fields = fields

    def get_is_current(self, obj) -> bool:
        return obj.document.current_version_id == obj.pk

    def get_download_url(self, obj) -> str:
        return reverse("api-document-version-download", args=[obj.pk])


class DocumentOutput(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True, allow_null=True, default=None)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    created_by_name = serializers.CharField(source="created_by.__str__", read_only=True)
    current_version = VersionOutput(read_only=True, allow_null=True)

    class Meta:
        model = Document
        fields = ["id", "contract", "contract_number", "customer", "customer_name", "kind", "kind_display", "title",
                  "current_version", "created_by", "created_by_name", "created_at", "updated_at", "version"]
        read_only_fields = fields


class UploadInput(serializers.Serializer):
    contract = VisiblePrimaryKeyRelatedField(queryset=Contract.objects.live(),
                                             required=False, allow_null=True)
    customer = VisiblePrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=DocumentKind.choices, default=DocumentKind.ATTACHMENT)
    title = serializers.CharField(max_length=255, required=False, allow_blank=True, default="",
                                  help_text="Defaults to the cleaned file name (only with a single file).")
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, help_text="One file: the response is the document.")
    files = serializers.ListField(child=serializers.FileField(), required=False,
                                  help_text="Several files (repeat the field): the response is a list.")

    def validate(self, attrs):
        if not attrs.get("contract") and not attrs.get("customer"):
            raise serializers.ValidationError({"contract": ["Give a contract or a customer."]}, code="required")
        return attrs


class DocumentUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=255, required=False)
    kind = serializers.ChoiceField(choices=DocumentKind.choices, required=False)
    version = VersionField()


class VersionInput(serializers.Serializer):
    file = serializers.FileField(required=False)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    version = VersionField(required=False, help_text="The document version you read (optional); stale → 409.")


class LoanOutput(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="original.contract_id", read_only=True)
    borrower_name = serializers.CharField(source="borrower.__str__", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.__str__", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = PaperLoan
        fields = ["id", "original", "contract", "borrower", "borrower_name", "purpose", "lent_on", "due_on",
                  "returned_on", "is_overdue", "recorded_by", "recorded_by_name", "created_at"]
        read_only_fields = fields


class PaperOriginalOutput(serializers.ModelSerializer):
    location = serializers.CharField(source="__str__", read_only=True)
    loans = LoanOutput(many=True, read_only=True)
    lent_out = serializers.SerializerMethodField()

    class Meta:
        model = PaperOriginal
        fields = ["id", "contract", "location", "room", "cabinet", "box", "copies", "description", "notes",
                  "lent_out", "loans", "created_at", "updated_at"]
        read_only_fields = fields

    def get_lent_out(self, obj) -> bool:
        return any(loan.returned_on is None for loan in obj.loans.all())


class PaperOriginalInput(serializers.ModelSerializer):
    contract = VisiblePrimaryKeyRelatedField(queryset=Contract.objects.live())

    class Meta:
        model = PaperOriginal
        fields = ["contract", "room", "cabinet", "box", "copies", "description", "notes"]


class PaperOriginalUpdateInput(serializers.ModelSerializer):
    class Meta:
        model = PaperOriginal
        fields = ["room", "cabinet", "box", "copies", "description", "notes"]


class LendInput(serializers.Serializer):
    borrower = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    purpose = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lent_on = serializers.DateField()
    due_on = serializers.DateField(required=False, allow_null=True, default=None)


class ReturnInput(serializers.Serializer):
    returned_on = serializers.DateField()
