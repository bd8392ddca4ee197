"""Text extraction of a stored version, run by the `extract_version` task in the worker.

The version's status tells the user where it is: queued → running → done, or failed with a reason.
A failure that may pass (OCR timeout, storage or key trouble, an unexpected error) goes back to
queued with its reason and is tried again after 30 s, 2 min and 10 min; after the fourth attempt,
or at once for a file that cannot be read (corrupt, encrypted, integrity failure), it is failed.

Each version is extracted once even with several workers and duplicate deliveries: the worker
claims it with an atomic compare-and-set of its status (queued → running), and a version that is
running, done or failed is left alone.

Time limit and lease. An extraction may take EXTRACTION_TIME_LIMIT seconds (the setting
QIYUE_EXTRACTION_TIME_LIMIT, default 30 min); past it, it fails for good with `time_limit` — the file
itself is the problem. In the worker's main thread a SIGALRM timer interrupts pure-Python parsing
(pypdf, python-docx, openpyxl); everywhere the deadline is also checked between pages and bounds each
OCR call. The claim records `extraction_started_at`, a lease of the time limit plus LEASE_MARGIN: a
worker that is killed (SIGKILL, out of memory, a restart) leaves its version running, and
`extraction_recover_stale`, run by `qiyue worker` when it starts and every few minutes, finds it once
the lease has passed and queues it again — counted as an attempt, so a file that kills the worker
every time ends failed with `worker_lost`. A worker writes its result only while it still holds its
lease.

Memory. The file is read and parsed in a child process (`isolation.run_limited`) whose address space
may grow by QIYUE_TASK_MEMORY_MB (default 1024) beyond the worker's: a file that needs more fails with
`too_large` (or `crashed`, when the reader dies of it) and the worker goes on with the next task.
"""

import contextlib
import datetime
import logging
import signal
import threading
import time

from django.apps import apps
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from qiyue.core.search_kinds import reindex_later
from qiyue.vault import blobs, crypto, keys

from . import isolation
from .models import Document, DocumentText, DocumentVersion, ExtractionStatus
from .search import KIND as SEARCH_KIND
from .textformats import Extracted, ExtractionFailure, FailureCode, TimeLimitExceeded, extract

logger = logging.getLogger(__name__)

# Waits before the 2nd, 3rd and 4th attempt; the 4th failure is final.
RETRY_DELAYS = (datetime.timedelta(seconds=30), datetime.timedelta(minutes=2), datetime.timedelta(minutes=10))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
ERROR_LENGTH = 500
# Wall-clock seconds one extraction (read, decrypt, parse, OCR) may take; read once, as a worker's
# lease must not change under it.
EXTRACTION_TIME_LIMIT = settings.QIYUE_EXTRACTION_TIME_LIMIT
# A running version whose claim is older than the time limit plus this lost its worker.
LEASE_MARGIN = datetime.timedelta(minutes=5)
WORKER_LOST_MESSAGE = "the worker stopped while extracting this file (killed, out of memory or restarted)"


class WorkerLost(Exception):
    """Recorded on a task result the recovery sweep found running past its lease (never raised)."""


def extraction_lease() -> datetime.timedelta:
    """How long a claimed version may stay running before it counts as abandoned."""
    return datetime.timedelta(seconds=EXTRACTION_TIME_LIMIT) + LEASE_MARGIN


@contextlib.contextmanager
def time_limit(seconds: float):
    """Yield a time.monotonic() deadline `seconds` away; in the main thread, also raise
    TimeLimitExceeded from a SIGALRM timer when it passes, so that a parser busy in Python code is
    interrupted (a long call into C — pdfium, lxml — is interrupted when it returns). The previous
    SIGALRM handler is put back afterwards. Elsewhere (another thread, or a timer already armed by
    someone else) only the deadline applies."""
    deadline = time.monotonic() + seconds
    if (not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield deadline
        return

    def expire(signum, frame):
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield deadline
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def run_extraction(version_id: int) -> str:
    """Extract the text of one version; returns the status it ends in ("skipped" when another
    worker has it or it is already done, or when this worker lost its claim meanwhile)."""
    now = timezone.now()
    claimed = DocumentVersion.objects.filter(pk=version_id, extraction_status=ExtractionStatus.QUEUED).update(
        extraction_status=ExtractionStatus.RUNNING, extraction_attempts=F("extraction_attempts") + 1,
        extraction_started_at=now, updated_at=now)
    if not claimed:
        logger.info("extraction of version %s skipped: not queued (already done, running or failed)", version_id)
        return "skipped"
    version = DocumentVersion.objects.get(pk=version_id)
    started = time.monotonic()
    try:
        result = _extract(version)
    except ExtractionFailure as failure:
        return _record_failure(version, failure, time.monotonic() - started)
    if not _save_text(version, result, time.monotonic() - started):
        return "skipped"
    return ExtractionStatus.DONE


def _extract(version: DocumentVersion) -> Extracted:
    limit = EXTRACTION_TIME_LIMIT
    memory_mb = settings.QIYUE_TASK_MEMORY_MB
    try:
        with time_limit(limit) as deadline, blobs.blob_read(
                name=version.blob_name, key_id=version.key_id, wrapped_key=version.wrapped_key,
                sha256=version.sha256) as plaintext:
            def parse() -> Extracted:
                # In the child (when the memory is capped) the parent's alarm is not inherited: its own.
                with time_limit(max(deadline - time.monotonic(), 0.001)):
                    return extract(version.file_type, plaintext, deadline=deadline)

            return isolation.run_limited(parse, memory_mb=memory_mb, label=f"extraction of version {version.pk}")
    except TimeLimitExceeded:
        raise ExtractionFailure(FailureCode.TIME_LIMIT,
                                f"reading the file took longer than the time limit of {limit} s") from None
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
        raise ExtractionFailure(FailureCode.TOO_LARGE, "the file needs more memory than a task may take "
                                f"(QIYUE_TASK_MEMORY_MB={memory_mb})") from exc
    except isolation.ChildDied as exc:
        raise ExtractionFailure(FailureCode.CRASHED, str(exc)) from exc
    except Exception as exc:
        logger.exception("text extraction of version %s failed unexpectedly", version.pk)
        raise ExtractionFailure(FailureCode.UNEXPECTED, f"{type(exc).__name__}: {exc}") from exc


def _held(version: DocumentVersion):
    """The version while this worker still holds its claim (not deleted, not recovered by the sweep)."""
    return DocumentVersion.objects.filter(pk=version.pk, extraction_status=ExtractionStatus.RUNNING,
                                          extraction_started_at=version.extraction_started_at)


def _save_text(version: DocumentVersion, result: Extracted, seconds: float) -> bool:
    with transaction.atomic():
        if not _held(version).select_for_update().exists():
            # deleted while it was being read, or running past its lease and recovered by the sweep
            logger.warning("text of version %s not saved: the version is gone or no longer held", version.pk)
            return False
        DocumentText.objects.update_or_create(version_id=version.pk,
                                              defaults={"text": result.text, "pages": result.page_starts})
        now = timezone.now()
        DocumentVersion.objects.filter(pk=version.pk).update(
            extraction_status=ExtractionStatus.DONE, extraction_error="", page_count=result.page_count,
            extraction_seconds=round(seconds, 3), ocr_used=result.ocr_used, extracted_at=now, updated_at=now)
        # The text is searchable once the indexing queued at commit has run (if it is current).
        reindex_later(SEARCH_KIND, *Document.objects.filter(current_version_id=version.pk).values_list("pk", flat=True))
    logger.info("extracted version %s: %s pages, %s chars, %.2f s%s", version.pk, result.page_count,
                len(result.text), seconds, " (OCR)" if result.ocr_used else "")
    return True


def _record_failure(version: DocumentVersion, failure: ExtractionFailure, seconds: float) -> str:
    attempts = version.extraction_attempts  # counted when the version was claimed
    retry = failure.transient and attempts < MAX_ATTEMPTS
    status = ExtractionStatus.QUEUED if retry else ExtractionStatus.FAILED
    reason = _reason(failure.code, failure.message)
    with transaction.atomic():
        updated = _held(version).update(
            extraction_status=status, extraction_error=reason, extraction_seconds=round(seconds, 3),
            updated_at=timezone.now())
        if retry and updated:
            run_after = timezone.now() + RETRY_DELAYS[attempts - 1]
            transaction.on_commit(lambda: schedule_extraction(version.pk, run_after=run_after))
    if not updated:
        logger.warning("failure of version %s not recorded: the version is gone or no longer held (%s)",
                       version.pk, reason)
        return "skipped"
    log = logger.warning if retry else logger.error
    log("text extraction of version %s failed (attempt %s of %s, %s): %s", version.pk, attempts, MAX_ATTEMPTS,
        "will retry" if retry else "final", reason)
    return status


def extraction_requeue(*, version_id: int) -> bool:
    """Queue a failed (or stuck) version for a fresh round of attempts, e.g. after Tesseract was
    installed or a master key restored. Returns False when the version is queued or done already."""
    with transaction.atomic():
        updated = DocumentVersion.objects.filter(
            pk=version_id, extraction_status__in=[ExtractionStatus.FAILED, ExtractionStatus.RUNNING]).update(
            extraction_status=ExtractionStatus.QUEUED, extraction_attempts=0, extraction_error="",
            updated_at=timezone.now())
        if updated:
            transaction.on_commit(lambda: schedule_extraction(version_id))
    return bool(updated)


def _reason(code: FailureCode, message: str) -> str:
    reason = f"{code}: {message}"
    return reason[: ERROR_LENGTH - 1] + "…" if len(reason) > ERROR_LENGTH else reason


def extraction_recover_stale(*, now: datetime.datetime | None = None) -> int:
    """Recover the extractions whose worker was lost: versions running for longer than the lease
    (or running without a start time, claimed before it was recorded). The lost run counts as an
    attempt: with attempts left the version is queued again at once, else it is failed with
    `worker_lost`. Each is recovered with a compare-and-set on its status and start time, so several
    workers sweeping at once recover it once. Task results of the extraction task left running past
    the lease are marked failed. Returns the number of versions recovered."""
    now = now or timezone.now()
    cutoff = now - extraction_lease()
    stale = DocumentVersion.objects.filter(
        Q(extraction_started_at__lt=cutoff) | Q(extraction_started_at__isnull=True),
        extraction_status=ExtractionStatus.RUNNING,
    ).values_list("pk", "extraction_attempts", "extraction_started_at").order_by("pk")
    recovered = 0
    for pk, attempts, started_at in list(stale):
        retry = attempts < MAX_ATTEMPTS
        status = ExtractionStatus.QUEUED if retry else ExtractionStatus.FAILED
        with transaction.atomic():
            updated = DocumentVersion.objects.filter(
                pk=pk, extraction_status=ExtractionStatus.RUNNING, extraction_started_at=started_at,  # None: IS NULL
            ).update(extraction_status=status, extraction_error=_reason(FailureCode.WORKER_LOST, WORKER_LOST_MESSAGE),
                     updated_at=timezone.now())
            if updated and retry:
                transaction.on_commit(lambda pk=pk: schedule_extraction(pk))
        if updated:
            recovered += 1
            log = logger.warning if retry else logger.error
            log("text extraction of version %s was abandoned by its worker (running since %s; attempt %s of %s, %s)",
                pk, started_at or "unknown", attempts, MAX_ATTEMPTS, "queued again" if retry else "final")
    _fail_stale_task_results(cutoff, now)
    return recovered


def _fail_stale_task_results(cutoff: datetime.datetime, now: datetime.datetime) -> None:
    """Mark the database backend's results of the extraction task still running since before `cutoff`
    as failed: their worker is gone and the backend would show them running for ever."""
    if not apps.is_installed("django_tasks_db"):
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    error = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
    failed = DBTaskResult.objects.running().filter(task_path=extract_version.module_path,
                                                   started_at__lt=cutoff).update(
        status=TaskResultStatus.FAILED, finished_at=now, return_value=None, exception_class_path=error,
        traceback=f"{error}: {WORKER_LOST_MESSAGE}; found running past its lease by the recovery sweep\n")
    if failed:
        logger.warning("marked %s extraction task result(s) abandoned by their worker as failed", failed)


# --- the worker's task ------------------------------------------------------------------------------
# Defined here, beside the code that reschedules it, so the two need no import of each other;
# tasks.py names it for the worker (and for tasks queued under that path).

@task()
def extract_version(version_id: int) -> str:
    return run_extraction(version_id)


def schedule_extraction(version_id: int, *, run_after: datetime.datetime | None = None) -> None:
    """Queue text extraction for a version (not before `run_after`); call it from transaction.on_commit."""
    if run_after is not None and extract_version.get_backend().supports_defer:
        extract_version.using(run_after=run_after).enqueue(version_id)
    else:  # a backend that cannot defer (the immediate one, in development) retries at once
        extract_version.enqueue(version_id)
