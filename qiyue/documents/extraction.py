"""Text extraction of a stored version, run by the `extract_version` task in the worker.

The version's status tells the user where it is: queued → running → done, or failed with a reason.
A failure that may pass (OCR timeout, storage or key trouble, an unexpected error) goes back to
queued with its reason and is tried again after 30 s, 2 min and 10 min; after the fourth attempt,
or at once for a file that cannot be read (corrupt, encrypted, integrity failure), it is failed.

Each version is extracted once even with several workers and duplicate deliveries: the worker
claims it with an atomic compare-and-set of its status (queued → running), and a version that is
running, done or failed is left alone.
"""

import datetime
import logging
import time

from django.core.exceptions import SuspiciousFileOperation
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import blobs, crypto, keys
from .models import DocumentText, DocumentVersion, ExtractionStatus
from .signals import text_extracted
from .textformats import Extracted, ExtractionFailure, FailureCode, extract

logger = logging.getLogger(__name__)

# Waits before the 2nd, 3rd and 4th attempt; the 4th failure is final.
RETRY_DELAYS = (datetime.timedelta(seconds=30), datetime.timedelta(minutes=2), datetime.timedelta(minutes=10))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
ERROR_LENGTH = 500


def run_extraction(version_id: int) -> str:
    """Extract the text of one version; returns the status it ends in ("skipped" when another
    worker has it or it is already done)."""
    now = timezone.now()
    claimed = DocumentVersion.objects.filter(pk=version_id, extraction_status=ExtractionStatus.QUEUED).update(
        extraction_status=ExtractionStatus.RUNNING, extraction_attempts=F("extraction_attempts") + 1,
        updated_at=now)
    if not claimed:
        logger.info("extraction of version %s skipped: not queued (already done, running or failed)", version_id)
        return "skipped"
    version = DocumentVersion.objects.get(pk=version_id)
    started = time.monotonic()
    try:
        result = _extract(version)
    except ExtractionFailure as failure:
        return _record_failure(version, failure, time.monotonic() - started)
    _save_text(version, result, time.monotonic() - started)
    return ExtractionStatus.DONE


def _extract(version: DocumentVersion) -> Extracted:
    try:
        with blobs.blob_read(name=version.blob_name, key_id=version.key_id, wrapped_key=version.wrapped_key,
                             sha256=version.sha256) as plaintext:
            return extract(version.file_type, plaintext)
    except ExtractionFailure:
        raise
    except crypto.IntegrityError as exc:
        raise ExtractionFailure(FailureCode.INTEGRITY, f"the stored file failed its integrity check ({exc})") from exc
    except keys.MasterKeyError as exc:
        raise ExtractionFailure(FailureCode.KEY_UNAVAILABLE, str(exc)) from exc
    except (FileNotFoundError, SuspiciousFileOperation) as exc:
        raise ExtractionFailure(FailureCode.MISSING_FILE, "the stored file is missing") from exc
    except OSError as exc:
        raise ExtractionFailure(FailureCode.STORAGE, f"the stored file could not be read ({exc})") from exc
    except MemoryError as exc:
        raise ExtractionFailure(FailureCode.TOO_LARGE, "the file needs more memory than the worker has") from exc
    except Exception as exc:
        logger.exception("text extraction of version %s failed unexpectedly", version.pk)
        raise ExtractionFailure(FailureCode.UNEXPECTED, f"{type(exc).__name__}: {exc}") from exc


def _save_text(version: DocumentVersion, result: Extracted, seconds: float) -> None:
    with transaction.atomic():
        if not DocumentVersion.objects.select_for_update().filter(pk=version.pk).exists():
            return  # deleted while it was being read
        DocumentText.objects.update_or_create(version_id=version.pk,
                                              defaults={"text": result.text, "pages": result.page_starts})
        now = timezone.now()
        DocumentVersion.objects.filter(pk=version.pk).update(
            extraction_status=ExtractionStatus.DONE, extraction_error="", page_count=result.page_count,
            extraction_seconds=round(seconds, 3), ocr_used=result.ocr_used, extracted_at=now, updated_at=now)
        transaction.on_commit(lambda: _announce(version.pk))
    logger.info("extracted version %s: %s pages, %s chars, %.2f s%s", version.pk, result.page_count,
                len(result.text), seconds, " (OCR)" if result.ocr_used else "")


def _announce(version_id: int) -> None:
    # The search index listens; a failing listener must not undo or fail the extraction (a
    # `qiyue reindex` rebuilds the index), but it must be seen.
    for receiver, response in text_extracted.send_robust(sender=DocumentVersion, version_id=version_id):
        if isinstance(response, Exception):
            logger.error("text_extracted receiver %r failed for version %s", receiver, version_id,
                         exc_info=response)


def _record_failure(version: DocumentVersion, failure: ExtractionFailure, seconds: float) -> str:
    from .tasks import schedule_extraction

    attempts = version.extraction_attempts  # counted when the version was claimed
    retry = failure.transient and attempts < MAX_ATTEMPTS
    status = ExtractionStatus.QUEUED if retry else ExtractionStatus.FAILED
    reason = f"{failure.code}: {failure.message}"
    if len(reason) > ERROR_LENGTH:
        reason = reason[: ERROR_LENGTH - 1] + "…"
    with transaction.atomic():
        updated = DocumentVersion.objects.filter(pk=version.pk, extraction_status=ExtractionStatus.RUNNING).update(
            extraction_status=status, extraction_error=reason, extraction_seconds=round(seconds, 3),
            updated_at=timezone.now())
        if retry and updated:
            run_after = timezone.now() + RETRY_DELAYS[attempts - 1]
            transaction.on_commit(lambda: schedule_extraction(version.pk, run_after=run_after))
    log = logger.warning if retry else logger.error
    log("text extraction of version %s failed (attempt %s of %s, %s): %s", version.pk, attempts, MAX_ATTEMPTS,
        "will retry" if retry else "final", reason)
    return status


def extraction_requeue(*, version_id: int) -> bool:
    """Queue a failed (or stuck) version for a fresh round of attempts, e.g. after Tesseract was
    installed or a master key restored. Returns False when the version is queued or done already."""
    from .tasks import schedule_extraction

    with transaction.atomic():
        updated = DocumentVersion.objects.filter(
            pk=version_id, extraction_status__in=[ExtractionStatus.FAILED, ExtractionStatus.RUNNING]).update(
            extraction_status=ExtractionStatus.QUEUED, extraction_attempts=0, extraction_error="",
            updated_at=timezone.now())
        if updated:
            transaction.on_commit(lambda: schedule_extraction(version_id))
    return bool(updated)
