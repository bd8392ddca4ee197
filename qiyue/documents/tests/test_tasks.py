"""The extraction task: status, retries with back-off, idempotence and once-only under several workers,
through run_extraction and through the database task backend and its worker. Runs on SQLite and
PostgreSQL (the suite's PostgreSQL run)."""

import datetime
import io
import signal
import threading

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from qiyue.documents import extraction
from qiyue.documents.extraction import MAX_ATTEMPTS, RETRY_DELAYS, extraction_requeue, run_extraction
from qiyue.documents.models import DocumentText, DocumentVersion, ExtractionStatus
from qiyue.documents.signals import text_extracted
from qiyue.documents.tasks import schedule_extraction
from qiyue.documents.textformats import ExtractionFailure, FailureCode

from . import files


@pytest.fixture
def announced():
    """Version ids sent with text_extracted."""
    seen = []

    def receiver(sender, version_id, **kwargs):
        seen.append(version_id)

    text_extracted.connect(receiver, weak=False)
    yield seen
    text_extracted.disconnect(receiver)


@pytest.fixture
def worker():
    """Run the worker until no task is ready (`qiyue worker --batch`); it installs signal handlers,
    which are put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}

    def run():
        call_command("worker", "--batch", verbosity=0)

    yield run
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def pdf_version(users):
    return files.make_stored_version(users["sales"], files.text_pdf(), "pdf")


def refreshed(version) -> DocumentVersion:
    return DocumentVersion.objects.get(pk=version.pk)


def fail_with(monkeypatch, code: FailureCode):
    def broken(file_type, file, **options):
        raise ExtractionFailure(code, "simulated")

    monkeypatch.setattr(extraction, "extract", broken)


def test_run_extraction_saves_text_pages_and_status(users, announced, django_capture_on_commit_callbacks):
    version = pdf_version(users)
    assert version.extraction_status == ExtractionStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.DONE
        assert announced == []  # only once the text is committed
    version = refreshed(version)
    assert version.extraction_status == ExtractionStatus.DONE and version.extraction_error == ""
    assert version.extraction_attempts == 1 and version.page_count == 2 and not version.ocr_used
    assert version.extraction_seconds is not None and version.extracted_at is not None
    text = DocumentText.objects.get(version=version)
    assert "合同金额为人民币壹佰万元整" in text.text and len(text.pages) == 2
    assert text.page_at(text.text.index("甲方与乙方签署")) == 2
    assert text.page_at(text.text.index("合同金额")) == 1
    assert announced == [version.pk]


@pytest.mark.parametrize("file_type, build, expected, ocr_used", [
    ("docx", files.docx_file, "人民币伍拾万元", False),
    ("xlsx", files.xlsx_file, "备注：甲方联系人", False),
    ("png", files.png_scan, "合同金额人民币", True),
])
def test_every_type_through_the_task(users, file_type, build, expected, ocr_used, django_capture_on_commit_callbacks):
    version = files.make_stored_version(users["sales"], build(), file_type)
    with django_capture_on_commit_callbacks(execute=True):
        run_extraction(version.pk)
    version = refreshed(version)
    assert version.extraction_status == ExtractionStatus.DONE and version.ocr_used == ocr_used
    assert expected in version.text.text


def test_a_done_version_is_not_extracted_again(users, announced, django_capture_on_commit_callbacks):
    version = pdf_version(users)
    with django_capture_on_commit_callbacks(execute=True):
        run_extraction(version.pk)
    DocumentText.objects.filter(version=version).update(text="marker")
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == "skipped"
    assert refreshed(version).extraction_attempts == 1
    assert DocumentText.objects.get(version=version).text == "marker"
    assert announced == [version.pk]


def test_a_running_version_is_left_to_its_worker(users):
    """The second of two workers given the same version finds it claimed and does nothing."""
    version = pdf_version(users)
    DocumentVersion.objects.filter(pk=version.pk).update(extraction_status=ExtractionStatus.RUNNING,
                                                         extraction_attempts=1)
    assert run_extraction(version.pk) == "skipped"
    assert refreshed(version).extraction_attempts == 1
    assert not DocumentText.objects.filter(version=version).exists()


def test_transient_failure_is_retried_with_back_off_then_fails(users, monkeypatch, django_capture_on_commit_callbacks):
    version = pdf_version(users)
    fail_with(monkeypatch, FailureCode.OCR_TIMEOUT)
    for attempt in range(1, MAX_ATTEMPTS):
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            assert run_extraction(version.pk) == ExtractionStatus.QUEUED
        current = refreshed(version)
        assert current.extraction_status == ExtractionStatus.QUEUED
        assert current.extraction_attempts == attempt
        assert current.extraction_error.startswith("ocr_timeout:")
        retry = DBTaskResult.objects.get()
        assert retry.args_kwargs["args"] == [version.pk]
        delay = RETRY_DELAYS[attempt - 1]
        assert before + delay <= retry.run_after <= timezone.now() + delay
        assert not DBTaskResult.objects.ready().exists()  # not before its time
        retry.delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.FAILED
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.FAILED and current.extraction_attempts == MAX_ATTEMPTS
    assert current.extraction_error == "ocr_timeout: simulated"
    assert not DBTaskResult.objects.exists()
    assert [d.total_seconds() for d in RETRY_DELAYS] == [30, 120, 600]


def test_corrupt_file_fails_at_once_with_its_reason(users, django_capture_on_commit_callbacks):
    version = files.make_stored_version(users["sales"], b"%PDF-1.7\nnot really a pdf", "pdf")
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.FAILED
    version = refreshed(version)
    assert version.extraction_attempts == 1 and version.extraction_error.startswith("corrupt_file:")
    assert not DBTaskResult.objects.exists() and not DocumentText.objects.filter(version=version).exists()


def test_tampered_blob_fails_the_integrity_check(users, django_capture_on_commit_callbacks):
    version = pdf_version(users)
    with default_storage.open(version.blob_name, "rb") as stored:
        cipher = bytearray(stored.read())
    cipher[-20] ^= 1
    default_storage.delete(version.blob_name)
    default_storage.save(version.blob_name, io.BytesIO(bytes(cipher)))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.FAILED
    version = refreshed(version)
    assert version.extraction_error.startswith("integrity:")
    assert not DocumentText.objects.filter(version=version).exists()


def test_requeue_after_failure(users, monkeypatch, django_capture_on_commit_callbacks):
    version = pdf_version(users)
    fail_with(monkeypatch, FailureCode.CORRUPT)
    with django_capture_on_commit_callbacks(execute=True):
        run_extraction(version.pk)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert extraction_requeue(version_id=version.pk)
        assert not extraction_requeue(version_id=version.pk)  # already queued
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.QUEUED and current.extraction_attempts == 0
    assert DBTaskResult.objects.ready().count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_worker_runs_queued_extractions_once(users, worker, announced):
    """Uploads schedule the task on commit; the worker (the database backend's) runs it, and a
    duplicate delivery of the same task does nothing."""
    version = pdf_version(users)
    other = files.make_stored_version(users["sales"], files.xlsx_file(), "xlsx")
    schedule_extraction(version.pk)
    schedule_extraction(version.pk)  # delivered twice
    schedule_extraction(other.pk)
    worker()
    assert refreshed(version).extraction_status == ExtractionStatus.DONE
    assert refreshed(version).extraction_attempts == 1
    assert refreshed(other).extraction_status == ExtractionStatus.DONE
    results = DBTaskResult.objects.order_by("enqueued_at")
    assert [r.status for r in results] == ["SUCCESSFUL"] * 3
    assert sorted(r.return_value for r in results) == ["done", "done", "skipped"]
    assert sorted(announced) == sorted([version.pk, other.pk])


@pytest.mark.django_db(transaction=True)
def test_worker_retries_later_and_records_the_failure(users, worker, monkeypatch):
    version = pdf_version(users)
    fail_with(monkeypatch, FailureCode.STORAGE)
    schedule_extraction(version.pk)
    worker()
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.QUEUED and current.extraction_attempts == 1
    assert current.extraction_error.startswith("storage_error:")
    pending = DBTaskResult.objects.get(status="READY")
    assert pending.run_after > timezone.now() + datetime.timedelta(seconds=20)
    worker()  # nothing is ready before the back-off has passed
    assert refreshed(version).extraction_attempts == 1
    monkeypatch.undo()
    DBTaskResult.objects.filter(pk=pending.pk).update(run_after=timezone.now())  # time passes
    worker()
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.DONE and current.extraction_attempts == 2
    assert current.extraction_error == ""


@pytest.mark.django_db(transaction=True)
def test_worker_retry_failed_option(users, worker, monkeypatch):
    version = pdf_version(users)
    fail_with(monkeypatch, FailureCode.OCR_UNAVAILABLE)
    schedule_extraction(version.pk)
    worker()
    assert refreshed(version).extraction_status == ExtractionStatus.FAILED
    monkeypatch.undo()
    call_command("worker", "--batch", "--retry-failed", verbosity=0)
    assert refreshed(version).extraction_status == ExtractionStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_extract_once(users, announced):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections to the in-memory SQLite test database are not possible")
    version = pdf_version(users)
    start = threading.Barrier(2)
    outcomes = []

    def work():
        try:
            start.wait()
            outcomes.append(run_extraction(version.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "skipped"]
    assert refreshed(version).extraction_attempts == 1
    assert announced == [version.pk]
