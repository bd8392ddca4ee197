"""The extraction task: status, retries with back-off, idempotence and once-only under several workers,
through run_extraction and through the database task backend and its worker; the time limit, and the
recovery of extractions whose worker was lost. Runs on SQLite and PostgreSQL (the suite's PostgreSQL
run)."""

import datetime
import io
import signal
import threading
import time

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from qiyue.core import search_kinds
from qiyue.documents import extraction
from qiyue.documents.extraction import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    extraction_lease,
    extraction_recover_stale,
    extraction_requeue,
    run_extraction,
)
from qiyue.documents.models import Document, DocumentText, DocumentVersion, ExtractionStatus
from qiyue.documents.tasks import extract_version, schedule_extraction
from qiyue.documents.textformats import ExtractionFailure, FailureCode

from . import files


@pytest.fixture
def announced(monkeypatch):
    """The current version ids of the documents queued for indexing (as their text was extracted)."""
    seen = []

    def enqueue(kind, ids):
        if kind == "document":
            seen.extend(Document.objects.filter(pk__in=ids).values_list("current_version_id", flat=True))

    monkeypatch.setattr(search_kinds, "_queue", [enqueue])
    return seen


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


# --- the time limit --------------------------------------------------------------------------------

@pytest.fixture
def endless_pdf_parsing(monkeypatch):
    """pypdf's text extraction loops in pure Python, swallowing every Exception as a careless parser
    would; it gives up after 20 s so that a broken time limit fails the test instead of hanging it."""
    from pypdf import PageObject

    def endless(self, *args, **kwargs):
        give_up = time.monotonic() + 20
        while time.monotonic() < give_up:
            try:
                sum(range(1000))
            except Exception:  # noqa: BLE001 - the time limit must not be swallowed
                continue
        return ""

    monkeypatch.setattr(PageObject, "extract_text", endless)
    monkeypatch.setattr(extraction, "EXTRACTION_TIME_LIMIT", 1)


@pytest.fixture
def own_alarm_handler():
    """A SIGALRM handler of the caller's, which the time limit must put back."""
    def handler(signum, frame):
        pass

    previous = signal.signal(signal.SIGALRM, handler)
    yield handler
    signal.signal(signal.SIGALRM, previous)


def test_extraction_past_the_time_limit_fails_for_good(users, endless_pdf_parsing, own_alarm_handler,
                                                       django_capture_on_commit_callbacks):
    version = pdf_version(users)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.FAILED
    assert time.monotonic() - started < 10
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.FAILED and current.extraction_attempts == 1
    assert current.extraction_error == "time_limit: reading the file took longer than the time limit of 1 s"
    assert not DBTaskResult.objects.exists()  # not retried
    assert signal.getsignal(signal.SIGALRM) is own_alarm_handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.django_db(transaction=True)
def test_worker_enforces_the_time_limit(users, worker, endless_pdf_parsing, own_alarm_handler):
    """db_worker runs tasks in the main thread, where the alarm interrupts the parser."""
    version = pdf_version(users)
    schedule_extraction(version.pk)
    started = time.monotonic()
    worker()
    assert time.monotonic() - started < 10  # interrupted by the alarm, not by the parser giving up
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.FAILED
    assert current.extraction_error.startswith("time_limit:")
    assert DBTaskResult.objects.get().return_value == "failed"
    assert signal.getsignal(signal.SIGALRM) is own_alarm_handler


def test_time_limit_outside_the_main_thread_only_sets_a_deadline(own_alarm_handler):
    seen = []

    def work():
        with extraction.time_limit(5) as deadline:
            seen.append((deadline - time.monotonic(), signal.getitimer(signal.ITIMER_REAL)))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    (left, timer), = seen
    assert 4 < left <= 5 and timer == (0.0, 0.0)


# --- recovery of extractions whose worker was lost ---------------------------------------------------

def leave_running(version, *, attempts: int = 1, started_at: datetime.datetime | None) -> None:
    """As a worker killed in the middle of the extraction leaves it."""
    DocumentVersion.objects.filter(pk=version.pk).update(
        extraction_status=ExtractionStatus.RUNNING, extraction_attempts=attempts, extraction_started_at=started_at)


def long_ago() -> datetime.datetime:
    return timezone.now() - extraction_lease() - datetime.timedelta(minutes=1)


WORKER_LOST = "worker_lost: the worker stopped while extracting this file (killed, out of memory or restarted)"


@pytest.mark.django_db(transaction=True)
def test_worker_recovers_an_abandoned_extraction_and_extracts_it(users, worker, announced):
    stale = pdf_version(users)
    legacy = files.make_stored_version(users["sales"], files.xlsx_file(), "xlsx")
    recent = files.make_stored_version(users["sales"], files.docx_file(), "docx")
    schedule_extraction(stale.pk)
    schedule_extraction(recent.pk)
    DBTaskResult.objects.filter(args_kwargs__args=[stale.pk]).update(
        status="RUNNING", started_at=long_ago(), worker_ids=["killed"])
    DBTaskResult.objects.filter(args_kwargs__args=[recent.pk]).update(
        status="RUNNING", started_at=timezone.now() - datetime.timedelta(minutes=1), worker_ids=["alive"])
    other_task = DBTaskResult.objects.create(
        status="RUNNING", started_at=long_ago(), task_path="qiyue.other.tasks.slow", backend_name="default",
        args_kwargs={"args": [], "kwargs": {}}, run_after=timezone.now())
    leave_running(stale, started_at=long_ago())
    leave_running(legacy, started_at=None)  # claimed before the start time was recorded
    leave_running(recent, started_at=timezone.now() - datetime.timedelta(minutes=1))

    worker()  # sweeps when it starts, then runs what the sweep queued

    for version in (stale, legacy):
        current = refreshed(version)
        assert current.extraction_status == ExtractionStatus.DONE, current.extraction_error
        assert current.extraction_attempts == 2 and current.extraction_error == ""
        assert current.extraction_started_at > timezone.now() - datetime.timedelta(minutes=1)
    assert sorted(announced) == sorted([stale.pk, legacy.pk])
    assert refreshed(recent).extraction_status == ExtractionStatus.RUNNING  # its worker is still on it
    abandoned = DBTaskResult.objects.get(args_kwargs__args=[stale.pk], worker_ids=["killed"])
    assert abandoned.status == "FAILED" and abandoned.finished_at is not None
    assert abandoned.exception_class_path == "qiyue.documents.extraction.WorkerLost"
    assert abandoned.task_result.errors[0].exception_class is extraction.WorkerLost
    assert DBTaskResult.objects.get(args_kwargs__args=[recent.pk]).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=other_task.pk).status == "RUNNING"  # not ours to judge
    rerun = DBTaskResult.objects.filter(status="SUCCESSFUL").order_by("enqueued_at")
    assert sorted(r.args_kwargs["args"][0] for r in rerun) == sorted([stale.pk, legacy.pk])


def test_an_abandoned_extraction_out_of_attempts_fails_with_its_reason(users):
    version = pdf_version(users)
    leave_running(version, attempts=MAX_ATTEMPTS, started_at=long_ago())
    waiting = files.make_stored_version(users["sales"], files.xlsx_file(), "xlsx")
    extract_version.enqueue(waiting.pk)
    out = io.StringIO()
    call_command("worker", "--recover", stdout=out)
    assert "Recovered 1 text extraction(s)" in out.getvalue()
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.FAILED and current.extraction_attempts == MAX_ATTEMPTS
    assert current.extraction_error == WORKER_LOST
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]  # --recover runs no task
    assert refreshed(waiting).extraction_status == ExtractionStatus.QUEUED


def test_sweep_leaves_a_recent_extraction_alone_until_its_lease_passes(users, django_capture_on_commit_callbacks):
    version = pdf_version(users)
    started = timezone.now() - extraction_lease() + datetime.timedelta(minutes=1)
    leave_running(version, started_at=started)
    with django_capture_on_commit_callbacks(execute=True):
        assert extraction_recover_stale() == 0
    assert refreshed(version).extraction_status == ExtractionStatus.RUNNING
    assert not DBTaskResult.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert extraction_recover_stale(now=timezone.now() + datetime.timedelta(minutes=2)) == 1
        assert extraction_recover_stale(now=timezone.now() + datetime.timedelta(minutes=2)) == 0  # once
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.QUEUED and current.extraction_error == WORKER_LOST
    assert DBTaskResult.objects.ready().count() == 1
    assert extraction_lease() == datetime.timedelta(seconds=extraction.EXTRACTION_TIME_LIMIT, minutes=5)


def test_a_worker_that_lost_its_claim_does_not_write(users, monkeypatch, settings,
                                                     django_capture_on_commit_callbacks):
    """A worker stalled past its lease: meanwhile the sweep queued the version again; the stalled
    worker's late result is dropped, the queued run does the work."""
    settings.QIYUE_TASK_MEMORY_MB = 0  # the stand-in below sweeps through the database: in this process
    version = pdf_version(users)
    real = extraction.extract

    def stalled(file_type, file, **options):
        result = real(file_type, file, **options)
        extraction.extraction_recover_stale(now=timezone.now() + extraction_lease() + datetime.timedelta(seconds=1))
        return result

    monkeypatch.setattr(extraction, "extract", stalled)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == "skipped"
    current = refreshed(version)
    assert current.extraction_status == ExtractionStatus.QUEUED and current.extraction_error == WORKER_LOST
    assert not DocumentText.objects.filter(version=version).exists()
    assert DBTaskResult.objects.ready().count() == 1
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == ExtractionStatus.DONE
    assert refreshed(version).extraction_attempts == 2


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_recover_once(users):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections to the in-memory SQLite test database are not possible")
    versions = [pdf_version(users) for _ in range(3)]
    for version in versions:
        leave_running(version, started_at=long_ago())
    start = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            start.wait()
            counts.append(extraction_recover_stale())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 3
    assert DBTaskResult.objects.count() == 3  # each queued once
    assert sorted(r.args_kwargs["args"][0] for r in DBTaskResult.objects.all()) == sorted(v.pk for v in versions)


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_sweeps_in_the_background(users, monkeypatch, settings):
    """Without --batch the worker runs the periodic jobs (the sweep among them) in its own thread,
    which stops with the worker."""
    settings.QIYUE_TASK_MEMORY_MB = 0  # the stand-in below waits for this process's sweeping thread
    from qiyue.core import jobs
    from qiyue.documents.jobs import RECOVER_STALE_EXTRACTIONS
    from qiyue.ops import jobs as job_runner

    swept = threading.Event()
    sweeps = []

    def fake_sweep(*, now=None):
        sweeps.append(threading.current_thread().name)
        if threading.current_thread() is not threading.main_thread():
            swept.set()
        return 0

    def extract_after_a_sweep(file_type, file, **options):
        assert swept.wait(10), "no background sweep while the task ran"
        return real(file_type, file, **options)

    real = extraction.extract
    every = datetime.timedelta(seconds=0.05)
    monkeypatch.setitem(jobs._jobs, RECOVER_STALE_EXTRACTIONS, jobs.PeriodicJob(RECOVER_STALE_EXTRACTIONS, fake_sweep, every))
    monkeypatch.setattr(extraction, "extract", extract_after_a_sweep)
    monkeypatch.setattr(job_runner, "POLL_INTERVAL", 0.05)
    version = pdf_version(users)
    schedule_extraction(version.pk)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--max-tasks", "1", "--interval", "0", verbosity=0)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert refreshed(version).extraction_status == ExtractionStatus.DONE
    assert sweeps[0] == threading.main_thread().name  # at start
    assert "qiyue-periodic-jobs" in sweeps[1:]
    assert not any(t.name == "qiyue-periodic-jobs" for t in threading.enumerate())
