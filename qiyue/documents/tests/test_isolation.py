"""The memory-capped child process text extraction runs in (isolation.run_limited): results and
exceptions come back, an allocation past the cap is a MemoryError there, a child that dies is
ChildDied, and the time limit's alarm in the worker kills the child."""

import faulthandler
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from qiyue.documents import extraction, isolation
from qiyue.documents.extraction import run_extraction, time_limit
from qiyue.documents.models import DocumentVersion, ExtractionStatus
from qiyue.documents.textformats import ExtractionFailure, FailureCode, TimeLimitExceeded

from . import files
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)


def test_the_result_comes_back_from_the_child():
    parent = os.getpid()
    assert isolation.run_limited(lambda: (os.getpid() != parent, "合同"), memory_mb=256) == (True, "合同")


def test_without_a_cap_it_runs_here():
    assert isolation.run_limited(os.getpid, memory_mb=0) == os.getpid()


def test_an_extraction_failure_keeps_its_code_and_message():
    def fail():
        raise ExtractionFailure(FailureCode.CORRUPT, "the PDF cannot be read (KeyError)")

    with pytest.raises(ExtractionFailure) as info:
        isolation.run_limited(fail, memory_mb=256)
    assert (info.value.code, info.value.message) == (FailureCode.CORRUPT, "the PDF cannot be read (KeyError)")


def test_an_exception_that_cannot_travel_is_named():
    class Local(Exception):  # not importable, so not unpicklable
        pass

    def fail():
        raise Local("boom")

    with pytest.raises(RuntimeError, match="Local: boom"):
        isolation.run_limited(fail, memory_mb=256)


def test_memory_past_the_cap_is_a_memory_error_in_the_child_only():
    def hog():
        return len(bytearray(600 * 1024 * 1024))

    with pytest.raises(MemoryError):
        isolation.run_limited(hog, memory_mb=200)
    assert isolation.run_limited(lambda: len(bytearray(50 * 1024 * 1024)), memory_mb=200) == 50 * 1024 * 1024


def test_a_program_the_child_runs_works_under_the_cap():
    """As Tesseract does: a program of a few hundred MB runs under the limit it inherits."""
    command = [sys.executable, "-c", "x = bytearray(300 * 2**20)"]
    assert isolation.run_limited(lambda: subprocess.run(command, check=False).returncode, memory_mb=1024) == 0


def test_a_child_that_dies_is_child_died():
    with pytest.raises(isolation.ChildDied) as info:
        isolation.run_limited(lambda: os.kill(os.getpid(), signal.SIGKILL), memory_mb=256)
    assert info.value.signal_number == signal.SIGKILL and "SIGKILL" in str(info.value)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_the_time_limit_kills_the_child():
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.5):
        isolation.run_limited(lambda: time.sleep(30), memory_mb=256)
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the child was reaped


@pytest.mark.django_db
def test_a_crashed_reader_fails_the_extraction_and_is_retried(users, storage, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    version = files.make_stored_version(users["sales"], files.text_pdf(), "pdf")
    def crash(*args, **kwargs):
        faulthandler.disable()  # the child dies quietly: no traceback dump in the test output
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(extraction, "extract", crash)
    with django_capture_on_commit_callbacks(execute=False):
        assert run_extraction(version.pk) == ExtractionStatus.QUEUED
    error = DocumentVersion.objects.get(pk=version.pk).extraction_error
    assert error.startswith("crashed: the process reading the file was killed by signal 11 (SIGSEGV")
